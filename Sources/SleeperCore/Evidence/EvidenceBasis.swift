/// Which evidence counts for a point in time T.
///
/// - `recorded`: what Sleeper knew at T — records recorded by T and effective by T, as they stood
///   then (a correction recorded after T does not apply). The auditor's default: it cannot be
///   changed after the fact.
/// - `effective`: what is known now about T — every record effective by T, whenever it was
///   recorded, with the corrections recorded since. This is how a team that starts using Sleeper
///   shows the checks it made months before, backfilled with their own effective dates.
public enum EvidenceBasis: String, CaseIterable, Sendable {
    case recorded, effective
}
