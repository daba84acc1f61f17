/// The version of this build of Sleeper, printed by `sleeper --version`.
public enum SleeperVersion {
    public static let current = "0.11.0"
}
