import Foundation
internal import Safety

/// The proxy and CA conventions of the AWS CLI and SDKs, read from the environment once.
///
/// - `HTTPS_PROXY` / `https_proxy` for https endpoints, `HTTP_PROXY` / `http_proxy` for http ones
///   (lower case wins when both are set, as in Python's urllib, which the AWS CLI uses); a value
///   without a scheme means `http://`. `NO_PROXY` / `no_proxy`: comma-separated hosts, domains
///   (`.example.com`), addresses, or `*`, reached directly.
/// - `AWS_CA_BUNDLE`: a PEM file of CA certificates trusted for HTTPS endpoints (and an https
///   proxy) besides the system's CA directory — for a TLS-inspecting gateway or a private CA.
public struct NetworkSettings: Sendable, Equatable {
    /// A value and the variable it came from.
    public struct Setting: Sendable, Equatable {
        public var value: String
        public var source: String
    }

    /// A proxy URL as libcurl takes it (userinfo included: never print `url`, print `display`).
    public struct Proxy: Sendable, Equatable {
        public var url: String
        public var source: String
        /// The URL with any `user:password@` masked.
        public var display: String { URLText.maskingUserinfo(url) }
    }

    public var httpsProxy: Proxy?
    public var httpProxy: Proxy?
    public var noProxy: Setting?
    public var caBundle: Setting?

    public init(httpsProxy: Proxy? = nil, httpProxy: Proxy? = nil, noProxy: Setting? = nil, caBundle: Setting? = nil) {
        self.httpsProxy = httpsProxy
        self.httpProxy = httpProxy
        self.noProxy = noProxy
        self.caBundle = caBundle
    }

    /// Reads the variables; a malformed proxy URL or a CA bundle that cannot be read is an error
    /// naming the variable. A password inside a proxy URL is registered with the redactor.
    public static func resolve(environment: [String: String]) throws -> NetworkSettings {
        func first(_ names: [String]) -> Setting? {
            for name in names {
                if let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty {
                    return Setting(value: value, source: name)
                }
            }
            return nil
        }
        var settings = NetworkSettings()
        settings.httpsProxy = try first(["https_proxy", "HTTPS_PROXY"]).map(proxy)
        settings.httpProxy = try first(["http_proxy", "HTTP_PROXY"]).map(proxy)
        settings.noProxy = first(["no_proxy", "NO_PROXY"])
        if let noProxy = settings.noProxy, noProxy.value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw AWSError.invalidSetting(
                name: noProxy.source, value: DisplayText.excerpt(noProxy.value, limit: 80), expected: "comma-separated host names or addresses")
        }
        if let bundle = first(["AWS_CA_BUNDLE"]) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: bundle.value, isDirectory: &isDirectory), !isDirectory.boolValue,
                FileManager.default.isReadableFile(atPath: bundle.value)
            else {
                throw AWSError.invalidSetting(
                    name: "AWS_CA_BUNDLE", value: DisplayText.excerpt(bundle.value, limit: 120),
                    expected: "a readable PEM file of CA certificates (or unset it)")
            }
            settings.caBundle = bundle
        }
        return settings
    }

    private static func proxy(_ setting: Setting) throws -> Proxy {
        let text = setting.value.contains("://") ? setting.value : "http://" + setting.value
        let allowed = ["http", "https", "socks4", "socks4a", "socks5", "socks5h"]
        guard !text.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }), let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), allowed.contains(scheme), let host = components.host, !host.isEmpty,
            components.query == nil, components.fragment == nil, components.path.isEmpty || components.path == "/"
        else {
            throw AWSError.invalidSetting(
                name: setting.source, value: DisplayText.excerpt(URLText.maskingUserinfo(setting.value), limit: 120),
                expected: "a proxy URL such as http://proxy.example.com:3128")
        }
        Redactor.shared.register(components.password)
        Redactor.shared.register(components.percentEncodedPassword)
        return Proxy(url: text, source: setting.source)
    }

    /// For `--verbose`: which proxy and CA file are in use (credentials in a proxy URL masked).
    public var descriptions: [String] {
        var lines: [String] = []
        if let proxy = httpsProxy { lines.append("https endpoints through proxy \(DisplayText.escaped(proxy.display)) (from \(proxy.source))") }
        if let proxy = httpProxy { lines.append("http endpoints through proxy \(DisplayText.escaped(proxy.display)) (from \(proxy.source))") }
        if httpsProxy == nil && httpProxy == nil { lines.append("no proxy (HTTPS_PROXY, HTTP_PROXY unset)") }
        if let noProxy { lines.append("reached directly: \(DisplayText.escaped(noProxy.value)) (from \(noProxy.source))") }
        if let caBundle {
            lines.append("CA bundle \(DisplayText.escaped(caBundle.value)) (from AWS_CA_BUNDLE) trusted besides the system's CAs")
        } else {
            lines.append("CA certificates: the system's (AWS_CA_BUNDLE unset)")
        }
        return lines
    }
}
