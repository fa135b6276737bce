import ArgumentParser
import Foundation
import Protocol

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "CURVE key pairs for the coordinator, workers and clients.",
        subcommands: [Generate.self, Authorize.self, Revoke.self])

    /// Key names become file names: letters, digits, '-', '_' and '.', not starting with '.'.
    static func validate(name: String) throws {
        guard !name.isEmpty, !name.hasPrefix("."), name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw ValidationError("key names use letters, digits, '-', '_' and '.', not starting with '.' (got '\(name)')")
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write NAME.key (public) and NAME.key_secret (mode 0600). Name the coordinator's pair 'coordinator'.")

        @Argument(help: "Key name, e.g. coordinator or node1.")
        var name: String

        @Option(help: "Directory to write into.")
        var dir = "."

        func validate() throws { try KeysCommand.validate(name: name) }

        func run() throws {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let files = try CurveKeyFile.write(try CurveKeyPair.generate(), name: name, directory: URL(fileURLWithPath: dir))
            print("public key: \(files.publicFile.path)\nsecret key: \(files.secretFile.path) (keep it on this machine)")
        }
    }

    struct Authorize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Allow a worker or client key to connect to the coordinator whose data directory is --data.")

        @Argument(help: "The worker's or client's public key file (NAME.key).")
        var publicKeyFile: String

        @Option(help: "The coordinator's data directory.")
        var data: String

        @Option(help: "worker (a node: may join and render, not submit) or client (may submit, watch and cancel, not render).")
        var role: Role = .worker

        enum Role: String, ExpressibleByArgument, CaseIterable { case worker, client }

        func run() throws {
            let source = URL(fileURLWithPath: publicKeyFile)
            _ = try CurveKeyFile.readPublicKey(at: source)   // refuse anything that is not a public key file
            guard source.pathExtension == CurveKeyFile.publicExtension else {
                throw ValidationError("\(publicKeyFile) is not a .\(CurveKeyFile.publicExtension) public key file")
            }
            let keyRole = CurveKeyRole(rawValue: role.rawValue) ?? .worker
            let directory = URL(fileURLWithPath: data).appendingPathComponent("authorized_keys").appendingPathComponent(keyRole.folder)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let destination = directory.appendingPathComponent(source.lastPathComponent)
            try? FileManager.default.removeItem(at: destination)
            try FileManager.default.copyItem(at: source, to: destination)
            // One role per key: a key authorised again with another role loses the first.
            for other in CurveKeyRole.allCases where other != keyRole {
                try? FileManager.default.removeItem(at: directory.deletingLastPathComponent().appendingPathComponent(other.folder)
                                                                .appendingPathComponent(source.lastPathComponent))
            }
            print("authorised \(source.lastPathComponent) as a \(role.rawValue); a running coordinator picks it up within 2 seconds")
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Withdraw a worker's or client's key (NAME, as authorised): a running coordinator refuses its messages and ends its session within 2 seconds.")

        @Argument(help: "The key's name (its file name without .key), e.g. node1.")
        var name: String

        @Option(help: "The coordinator's data directory.")
        var data: String

        func validate() throws { try KeysCommand.validate(name: name) }

        func run() throws {
            let root = URL(fileURLWithPath: data).appendingPathComponent("authorized_keys")
            // Keys authorised before roles existed sit in the folder itself.
            let candidates = [root] + CurveKeyRole.allCases.map { root.appendingPathComponent($0.folder) }
            var removed: [String] = []
            for folder in candidates {
                let file = folder.appendingPathComponent(name + "." + CurveKeyFile.publicExtension)
                guard FileManager.default.fileExists(atPath: file.path) else { continue }
                try FileManager.default.removeItem(at: file)
                removed.append(file.path)
            }
            // Revoking twice is not an error: `add-node.sh --remove` may run again after a failure.
            print(removed.isEmpty ? "\(name) was not authorised; nothing to revoke"
                                  : "revoked \(name) (\(removed.joined(separator: ", "))); a running coordinator drops it within 2 seconds")
        }
    }
}
