#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The one place secrets are removed from what the process prints, logs or records.
///
/// Two kinds of protection, applied together by ``redact(_:)-(String)``:
/// - **Values the process holds.** Whoever obtains a secret (the AWS credential chain, a proxy
///   URL's password) registers it; every registered value, and its percent-encoded and
///   JSON-escaped forms, becomes `<redacted>` wherever it appears — also inside a server's error
///   message that echoes the request (S3's `SignatureDoesNotMatch` carries the canonical request).
/// - **Shapes that are secret whoever holds them**: `scheme://user:password@` in URLs (masked
///   to `scheme://***@`), a SigV4 signature after `Signature`, the value of an
///   `X-Amz-Security-Token` header or query parameter, and an `Authorization` header value.
///
/// The executable's output functions, the reporter's writer and the recorder all go through
/// ``shared``; nothing else should print.
public final class Redactor: Sendable {
    public static let shared = Redactor()

    public static let mask = "<redacted>"

    /// Values shorter than this are not registered: a real secret key (40 characters) or token
    /// is far longer, and masking a short word everywhere would garble output.
    public static let minimumLength = 8

    private let secrets = Mutex<[[UInt8]]>([])

    public init() {}

    /// Registers a secret value (and its percent-encoded and JSON-escaped forms).
    public func register(_ secret: String?) {
        guard let secret, secret.utf8.count >= Self.minimumLength else { return }
        var forms: [[UInt8]] = [Array(secret.utf8)]
        let encoded = Array(Self.percentEncoded(secret).utf8)
        if encoded != forms[0] { forms.append(encoded) }
        let jsonEscaped = Array(secret.utf8).flatMap { $0 == 0x2F ? [0x5C, 0x2F] : [$0] }  // "/" -> "\/"
        if jsonEscaped != forms[0] { forms.append(jsonEscaped) }
        secrets.withLock { list in
            for form in forms where !list.contains(form) { list.append(form) }
            // Longest first, so a value that contains another is masked whole.
            list.sort { $0.count > $1.count }
        }
    }

    /// Whether any secret value is registered (for tests and `--verbose` diagnostics).
    public var holdsSecrets: Bool { secrets.withLock { !$0.isEmpty } }

    public func redact(_ text: String) -> String {
        let bytes = Array(text.utf8)
        let redacted = redact(bytes)
        return redacted.count == bytes.count && redacted == bytes ? text : String(decoding: redacted, as: UTF8.self)
    }

    public func redact(_ bytes: [UInt8]) -> [UInt8] {
        var output = URLText.maskingUserinfo(bytes)
        for secret in secrets.withLock({ $0 }) {
            output = Self.replacing(secret, in: output)
        }
        output = Self.maskingSignatures(output)
        output = Self.maskingHeaderValues(output)
        return output
    }

    // MARK: Shapes

    /// After `Signature` (as in `Signature=`, `X-Amz-Signature=`, `<SignatureProvided>`), the
    /// next run of 64 hex digits within a few characters is a SigV4 signature.
    static func maskingSignatures(_ bytes: [UInt8]) -> [UInt8] {
        var output = bytes
        var from = 0
        while let hit = find(caseInsensitive: "signature", in: output, from: from) {
            var index = hit + 9
            // Skip the rest of the word (`Provided`), then a separator: `=`, `>`, `": "`.
            while index < output.count, (output[index] | 0x20) >= 0x61, (output[index] | 0x20) <= 0x7A { index += 1 }
            var skipped = 0
            while index < output.count, skipped < 4, [0x3D, 0x3E, 0x3A, 0x22, 0x20].contains(output[index]) {
                index += 1
                skipped += 1
            }
            var end = index
            while end < output.count, isHex(output[end]) { end += 1 }
            if end - index >= 64 {
                output.replaceSubrange(index..<end, with: Array(mask.utf8))
                from = index + mask.utf8.count
            } else {
                from = hit + 9
            }
        }
        return output
    }

    /// The values of `X-Amz-Security-Token` (header `:` or query `=`) and `Authorization:`.
    static func maskingHeaderValues(_ bytes: [UInt8]) -> [UInt8] {
        var output = bytes
        for name in ["x-amz-security-token", "authorization"] {
            var from = 0
            while let hit = find(caseInsensitive: name, in: output, from: from) {
                var index = hit + name.utf8.count
                guard index < output.count, output[index] == 0x3A || output[index] == 0x3D || output[index] == 0x22 else {
                    from = index
                    continue
                }
                // `name: value`, `name=value`, `"name": "value"`.
                while index < output.count, [0x3A, 0x3D, 0x22, 0x20, 0x09].contains(output[index]) { index += 1 }
                var end = index
                let isQuery = output[hit + name.utf8.count] == 0x3D
                while end < output.count {
                    let byte = output[end]
                    if byte == 0x0A || byte == 0x0D || byte == 0x22 || byte == 0x3C { break }
                    if isQuery, byte == 0x26 || byte == 0x20 { break }
                    end += 1
                }
                if end > index, output[index..<end] != ArraySlice(mask.utf8) {
                    output.replaceSubrange(index..<end, with: Array(mask.utf8))
                }
                from = index + 1
            }
        }
        return output
    }

    // MARK: Byte search

    static func isHex(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66) || (byte >= 0x41 && byte <= 0x46)
    }

    /// The first case-insensitive occurrence of ASCII `needle` at or after `from`.
    static func find(caseInsensitive needle: String, in bytes: [UInt8], from: Int) -> Int? {
        let pattern = Array(needle.lowercased().utf8)
        guard let first = pattern.first, bytes.count - from >= pattern.count else { return nil }
        // memchr for both cases of the first byte keeps the common case (no hit) fast.
        var index = from
        let last = bytes.count - pattern.count
        return bytes.withUnsafeBufferPointer { buffer -> Int? in
            guard let base = buffer.baseAddress else { return nil }
            while index <= last {
                let lowerHit = memchr(base + index, Int32(first), last - index + 1)
                let upperHit = memchr(base + index, Int32(first & 0xDF), last - index + 1)
                let candidates = [lowerHit, upperHit].compactMap { $0 }.map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base }
                guard let candidate = candidates.min() else { return nil }
                var matches = true
                for offset in 1..<pattern.count where (buffer[candidate + offset] | 0x20) != pattern[offset] {
                    matches = false
                    break
                }
                if matches { return candidate }
                index = candidate + 1
            }
            return nil
        }
    }

    /// `bytes` with every occurrence of `needle` replaced by the mask.
    static func replacing(_ needle: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        guard let first = needle.first, bytes.count >= needle.count else { return bytes }
        var output: [UInt8] = []
        var copied = 0
        bytes.withUnsafeBufferPointer { hay in
            guard let base = hay.baseAddress else { return }
            var offset = 0
            let last = hay.count - needle.count
            // memchr finds candidates for the first byte; the rest is compared in place.
            while offset <= last, let found = memchr(base + offset, Int32(first), last - offset + 1) {
                let position = UnsafePointer(found.assumingMemoryBound(to: UInt8.self)) - base
                var matches = true
                for index in 1..<needle.count where hay[position + index] != needle[index] {
                    matches = false
                    break
                }
                guard matches else {
                    offset = position + 1
                    continue
                }
                if output.isEmpty { output.reserveCapacity(bytes.count) }
                output.append(contentsOf: bytes[copied..<position])
                output.append(contentsOf: mask.utf8)
                copied = position + needle.count
                offset = copied
            }
        }
        if copied == 0 { return bytes }
        output.append(contentsOf: bytes[copied...])
        return output
    }

    /// RFC 3986 percent-encoding of everything but unreserved characters (as SigV4 encodes).
    static func percentEncoded(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            let unreserved = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
            if unreserved {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}
