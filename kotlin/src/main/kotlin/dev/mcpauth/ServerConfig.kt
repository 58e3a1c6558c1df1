package dev.mcpauth

import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonObject
import dev.mcpauth.uniffi.ServerConfig as NativeServerConfig
import dev.mcpauth.uniffi.ServerType as NativeServerType
import dev.mcpauth.uniffi.ValidationFinding as NativeFinding

/** Which discovery document an issuer publishes. */
enum class ServerType {
    /** RFC 8414: `/.well-known/oauth-authorization-server`. */
    OAUTH,

    /** OpenID Connect Discovery: `/.well-known/openid-configuration`. */
    OIDC,
    ;

    internal fun toNative(): NativeServerType = if (this == OAUTH) NativeServerType.OAUTH else NativeServerType.OIDC

    internal companion object {
        fun of(t: NativeServerType): ServerType = if (t == NativeServerType.OAUTH) OAUTH else OIDC
    }
}

/**
 * An authorization server's metadata (RFC 8414 fields, snake_case; unknown fields kept) and type.
 * Get one with [fetchServerConfig], or from JSON with [AuthServerConfig.fromJson].
 */
class AuthServerConfig internal constructor(
    internal val native: NativeServerConfig,
) {
    val issuer: String get() = native.issuer()
    val type: ServerType get() = ServerType.of(native.serverType())

    /** The metadata as snake_case JSON. */
    val metadata: JsonObject get() = Json.parseToJsonElement(native.metadataJson()) as JsonObject

    /** Does this server fit MCP (authorization code, PKCE S256, ...)? */
    fun validate(): ValidationResult = ValidationResult.of(native.validate())

    override fun toString(): String = "AuthServerConfig(issuer=$issuer, type=$type)"

    companion object {
        /** Metadata given as snake_case JSON; [AuthServerException] `invalid_server_metadata` if it is not metadata. */
        fun fromJson(
            metadata: String,
            type: ServerType,
        ): AuthServerConfig = AuthServerConfig(native { NativeServerConfig.fromJson(metadata, type.toNative()) })

        fun fromJson(
            metadata: JsonObject,
            type: ServerType,
        ): AuthServerConfig = fromJson(metadata.toString(), type)
    }
}

/**
 * Fetches an issuer's metadata from the well-known URL of [type] and checks that it names the
 * same issuer. Without a type, the discovery URLs are tried in the order MCP clients use.
 * Throws [ConfigException] `fetch_server_config_error` or [AuthServerException].
 */
suspend fun fetchServerConfig(
    issuer: String,
    type: ServerType? = null,
): AuthServerConfig = AuthServerConfig(native { dev.mcpauth.uniffi.fetchServerConfig(issuer, type?.toNative()) })

/** One check of a [ValidationResult]. */
data class ValidationFinding(
    val code: String,
    val description: String,
    val cause: JsonElement? = null,
)

/** What [AuthServerConfig.validate] found: errors make [McpAuth] refuse the server; warnings are logged. */
data class ValidationResult(
    val isValid: Boolean,
    val errors: List<ValidationFinding>,
    val warnings: List<ValidationFinding>,
    val successes: List<ValidationFinding>,
) {
    internal companion object {
        private fun finding(f: NativeFinding) = ValidationFinding(f.code, f.description, f.causeJson?.let(Json::parseToJsonElement))

        fun of(r: dev.mcpauth.uniffi.ValidationResult) =
            ValidationResult(r.isValid, r.errors.map(::finding), r.warnings.map(::finding), r.successes.map(::finding))
    }
}

/** Validates snake_case metadata JSON: its schema first, then MCP's requirements. */
fun validateServerMetadata(metadata: JsonObject): ValidationResult =
    ValidationResult.of(native { dev.mcpauth.uniffi.validateServerMetadata(metadata.toString()) })

/** The well-known URL an issuer's metadata of [type] is fetched from (RFC 8414 §3.1 / OIDC Discovery). */
fun wellKnownUrl(
    issuer: String,
    type: ServerType,
): String = native { dev.mcpauth.uniffi.wellKnownUrl(issuer, type.toNative()) }
