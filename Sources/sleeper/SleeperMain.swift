import SleeperCLI

/// The executable only hands over to the command tree in SleeperCLI, which tests drive too.
@main
struct SleeperMain {
    static func main() async {
        await Sleeper.main()
    }
}
