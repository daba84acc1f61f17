import Crypto
import Foundation
import SleeperStore

/// Ed25519 keys on disk as base64 of the raw 32 bytes: the private key mode 0600, the public key
/// beside it with `.pub`.
enum SigningKeys {
    static var defaultPath: String {
        EmbeddedCluster.defaultHome(environment: Invocation.environment).appending(path: "keys/signing.ed25519").path
    }

    static func create(at path: String, force: Bool) throws -> Curve25519.Signing.PrivateKey {
        let fm = FileManager.default
        if fm.fileExists(atPath: path) && !force {
            throw CommandFailure(message: "\(path) already exists; pass --force to replace it (bundles signed with it will then need the old .pub to verify)")
        }
        let key = Curve25519.Signing.PrivateKey()
        do {
            try fm.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            fm.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
            try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
            try Data((key.rawRepresentation.base64EncodedString() + "\n").utf8).write(to: URL(fileURLWithPath: path))
            try Data((key.publicKey.rawRepresentation.base64EncodedString() + "\n").utf8).write(to: URL(fileURLWithPath: path + ".pub"))
        } catch {
            throw CommandFailure(message: "\(path): cannot be written (\(error.localizedDescription))")
        }
        return key
    }

    static func loadPrivate(_ path: String?) throws -> Curve25519.Signing.PrivateKey {
        let path = path ?? defaultPath
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandFailure(message: "no signing key at \(path): run `sleeper keys create` or pass --key")
        }
        guard let raw = Data(base64Encoded: try text(path)), let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw CommandFailure(message: "\(path): not an Ed25519 private key made by `sleeper keys create`")
        }
        return key
    }

    static func loadPublic(_ path: String) throws -> Curve25519.Signing.PublicKey {
        guard let raw = Data(base64Encoded: try text(path)), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw CommandFailure(message: "\(path): not an Ed25519 public key (the .pub file of `sleeper keys create`)")
        }
        return key
    }

    private static func text(_ path: String) throws -> String {
        String(decoding: try readInputFile(path), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A bundle is a flat directory of files.
enum BundleDirectory {
    static func write(_ files: [String: Data], to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for (name, data) in files { try data.write(to: URL(fileURLWithPath: directory).appending(path: name)) }
        } catch {
            throw CommandFailure(message: "\(directory): cannot be written (\(error.localizedDescription))")
        }
    }

    static func read(_ directory: String) throws -> [String: Data] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw CommandFailure(message: "\(directory): not a readable directory")
        }
        var files: [String: Data] = [:]
        for name in names where !name.hasPrefix(".") { files[name] = try readInputFile(directory + "/" + name) }
        return files
    }
}
