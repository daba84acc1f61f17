import Testing

@testable import SleeperCore

/// The diff tells a failed check or a recall among main factors without a regular expression
/// (compiled again at each call, it was 12 of 14.5 s of a 100k diff).
@Suite("Main factors that name a failure", .timeLimit(.minutes(2)))
struct NamesFailureTests {
    @Test("the same answers as the pattern it replaces, on the main factors Sleeper writes")
    func sameAsThePattern() {
        let cases: [(String, Bool)] = [
            ("failed serialization scan on support-8b", true),
            ("third party not allowed on m, failed backdoor scan on support-8b", true),
            ("recalled (recall #12) on acme-support-ft", true),
            ("recalled (recall #) on x", false),
            ("recalled (recall #3)on x", false),
            ("failed  on", false),
            ("never scanned on m", false),
            ("no holder", false),
            ("unsigned on m, stale evidence on n", false),
        ]
        let pattern = #/(^|, )(failed [^,]+|recalled \(recall #[0-9]+\)) on /#
        for (main, expected) in cases {
            #expect(ScoreDiff.namesFailure(main) == expected, "\(main)")
            #expect(main.contains(pattern) == expected, "the old pattern agrees on \(main)")
        }
    }
}
