import BrokerConfig

/// The smallest valid config: everything but the one app comes from defaults.
let minimalYAML = """
    apps:
      - { id: "1", key: app-key, secret: s3cret }
    """

/// Loads `yaml` as if read from `test.yaml`, with only `environment` visible to `${}`.
func load(_ yaml: String, environment: [String: String] = [:]) throws(ConfigError) -> Config {
    try ConfigLoader.load(yaml: yaml, file: "test.yaml", environment: environment)
}
