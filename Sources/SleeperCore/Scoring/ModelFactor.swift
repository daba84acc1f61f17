/// A model's own risk factors, as the weights file names them (`model.factors`): each a
/// probability that a backdoor entered this way, lowered by the controls listed for it.
public enum ModelFactor: String, CaseIterable, Sendable {
    case thirdPartyNotAllowed = "third_party_not_allowed"
    case lineageUnverified = "lineage_unverified"
    case trainingDataUndeclared = "training_data_undeclared"
    case unsignedOrNoDigest = "unsigned_or_no_digest"
    case unsafeSerialization = "unsafe_serialization"
}
