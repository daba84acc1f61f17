import Foundation
import PostgresNIO
import SleeperCore

/// The domain's closed sets decoded straight from rows. A value the schema's CHECK constraints
/// should have kept out (a hand-edited row, a schema from a newer Sleeper) fails the query with
/// an error that names the type and the value, instead of crashing the process.
public struct UnexpectedRowValue: Error, CustomStringConvertible, Sendable {
    public var type: String
    public var value: String
    public var description: String { "the database holds '\(value)', which is not a \(type) this Sleeper knows" }
}

protocol RowEnum: PostgresDecodable, RawRepresentable where RawValue: PostgresDecodable & CustomStringConvertible {}

extension RowEnum {
    public init<JSONDecoder: PostgresJSONDecoder>(
        from buffer: inout ByteBuffer, type: PostgresDataType, format: PostgresFormat,
        context: PostgresDecodingContext<JSONDecoder>
    ) throws {
        let raw = try RawValue(from: &buffer, type: type, format: format, context: context)
        guard let value = Self(rawValue: raw) else { throw UnexpectedRowValue(type: String(describing: Self.self), value: raw.description) }
        self = value
    }
}

extension SubjectKind: RowEnum {}
extension EvidenceResult: RowEnum {}
extension AccessRole: RowEnum {}
extension MappingRelationship: RowEnum {}
extension DatasetProvenance: RowEnum {}
extension InputTrust: RowEnum {}
extension Serialization: RowEnum {}
extension CredentialKind: RowEnum {}
extension ResourceTier: RowEnum {}
extension Band: RowEnum {}
extension EvidenceStatus: RowEnum {}

/// A closed-set value read from a row as its raw value (inside arrays, say), checked the same way.
func rowValue<E: RawRepresentable>(_ type: E.Type, _ raw: E.RawValue) throws -> E where E.RawValue: CustomStringConvertible {
    guard let value = E(rawValue: raw) else { throw UnexpectedRowValue(type: String(describing: E.self), value: raw.description) }
    return value
}
