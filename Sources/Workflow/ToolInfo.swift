/// The tool's name and version, as shown by `--version` and written into every record.
public enum ToolInfo {
    public static let name = "lambda-deploy"
    public static let version = "0.1.0"
    public static var nameAndVersion: String { "\(name) \(version)" }
}
