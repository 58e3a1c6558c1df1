package dev.mcpauth

import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.contentOrNull
import kotlinx.serialization.json.jsonPrimitive
import dev.mcpauth.uniffi.ErrorInfo as NativeErrorInfo
import dev.mcpauth.uniffi.ErrorKind as NativeErrorKind
import dev.mcpauth.uniffi.McpAuthException as NativeException

/** The families of mcp-auth failures; the first four are those of the Python and Node packages. */
enum class ErrorKind {
    /** The authorization server or its metadata: answered 500 `server_error`. */
    AUTH_SERVER,

    /** mcp-auth's own configuration. */
    CONFIG,

    /** The `Authorization` header or the issuer/audience/scope policy: 401 or 403. */
    BEARER_AUTH,

    /** The token itself: 401. */
    TOKEN_VERIFICATION,

    /**
     * A request to an MCP endpoint that per-operation rules cannot classify (not JSON-RPC, not
     * UTF-8, a key twice, too large, ...): answered 400/413/415 with a JSON-RPC error body.
     */
    REQUEST,
    ;

    internal fun toNative(): NativeErrorKind =
        when (this) {
            AUTH_SERVER -> NativeErrorKind.AUTH_SERVER
            CONFIG -> NativeErrorKind.CONFIG
            BEARER_AUTH -> NativeErrorKind.BEARER_AUTH
            TOKEN_VERIFICATION -> NativeErrorKind.TOKEN_VERIFICATION
            REQUEST -> NativeErrorKind.REQUEST
        }

    internal companion object {
        fun of(kind: NativeErrorKind): ErrorKind =
            when (kind) {
                NativeErrorKind.AUTH_SERVER -> AUTH_SERVER
                NativeErrorKind.CONFIG -> CONFIG
                NativeErrorKind.BEARER_AUTH -> BEARER_AUTH
                NativeErrorKind.TOKEN_VERIFICATION -> TOKEN_VERIFICATION
                NativeErrorKind.REQUEST -> REQUEST
            }
    }
}

/** Structured details of a failure; response bodies show them when error details are enabled. */
data class ErrorDetails(
    val cause: JsonElement? = null,
    val uri: String? = null,
    val missingScopes: List<String>? = null,
    val expected: JsonElement? = null,
    val actual: JsonElement? = null,
) {
    /** snake_case, as response bodies show it. */
    fun toJson(): JsonObject =
        buildJsonObject {
            cause?.let { put("cause", it) }
            uri?.let { put("uri", JsonPrimitive(it)) }
            missingScopes?.let { s -> put("missing_scopes", JsonArray(s.map(::JsonPrimitive))) }
            expected?.let { put("expected", it) }
            actual?.let { put("actual", it) }
        }

    internal companion object {
        fun parse(json: String): ErrorDetails {
            val o = Json.parseToJsonElement(json) as? JsonObject ?: return ErrorDetails()
            return ErrorDetails(
                cause = o["cause"],
                uri = o["uri"]?.jsonPrimitive?.contentOrNull,
                missingScopes = (o["missing_scopes"] as? JsonArray)?.map { it.jsonPrimitive.content },
                expected = o["expected"],
                actual = o["actual"],
            )
        }
    }
}

/**
 * An mcp-auth failure: [kind], the upstream [code] (`invalid_token`, `missing_required_scopes`,
 * ...), the message in the packages' wording and [details].
 *
 * A custom verifier throws one of the subclasses to refuse a token; the guard answers it with
 * the same status, body and challenge as the Python and Node packages.
 */
sealed class McpAuthException(
    val kind: ErrorKind,
    val code: String,
    private val explicitMessage: String?,
    val details: ErrorDetails,
) : RuntimeException(explicitMessage ?: describe(kind, code)) {
    override val message: String get() = super.message ?: code

    internal fun toNative(): NativeErrorInfo = NativeErrorInfo(kind.toNative(), code, explicitMessage, details.toJson().toString())

    override fun toString(): String = "${this::class.simpleName}($code: $message)"

    internal companion object {
        fun describe(
            kind: ErrorKind,
            code: String,
        ): String =
            dev.mcpauth.uniffi
                .errorDescription(kind.toNative(), code)
                .ifEmpty { code }

        fun of(
            kind: ErrorKind,
            code: String,
            message: String?,
            details: ErrorDetails,
        ): McpAuthException =
            when (kind) {
                ErrorKind.AUTH_SERVER -> AuthServerException(code, message, details)
                ErrorKind.CONFIG -> ConfigException(code, message, details)
                ErrorKind.BEARER_AUTH -> BearerAuthException(code, message, details)
                ErrorKind.TOKEN_VERIFICATION -> TokenVerificationException(code, message, details)
                ErrorKind.REQUEST -> RequestException(code, message, details)
            }

        fun of(info: NativeErrorInfo): McpAuthException =
            of(ErrorKind.of(info.kind), info.code, info.message, ErrorDetails.parse(info.detailsJson))

        fun of(e: NativeException): McpAuthException =
            when (e) {
                is NativeException.AuthServer -> {
                    of(ErrorKind.AUTH_SERVER, e.code, e.reason, ErrorDetails.parse(e.detailsJson))
                }

                is NativeException.Config -> {
                    of(ErrorKind.CONFIG, e.code, e.reason, ErrorDetails.parse(e.detailsJson))
                }

                is NativeException.BearerAuth -> {
                    of(ErrorKind.BEARER_AUTH, e.code, e.reason, ErrorDetails.parse(e.detailsJson))
                }

                is NativeException.TokenVerification -> {
                    of(ErrorKind.TOKEN_VERIFICATION, e.code, e.reason, ErrorDetails.parse(e.detailsJson))
                }

                is NativeException.Request -> {
                    of(ErrorKind.REQUEST, e.code, e.reason, ErrorDetails.parse(e.detailsJson))
                }
            }
    }
}

/** The authorization server or its metadata failed (`invalid_server_config`, `missing_jwks_uri`, ...). */
class AuthServerException(
    code: String,
    message: String? = null,
    details: ErrorDetails = ErrorDetails(),
) : McpAuthException(ErrorKind.AUTH_SERVER, code, message, details)

/** mcp-auth is configured wrongly (`fetch_server_config_error`, ...). */
class ConfigException(
    code: String,
    message: String? = null,
    details: ErrorDetails = ErrorDetails(),
) : McpAuthException(ErrorKind.CONFIG, code, message, details)

/** The request's credentials do not satisfy the route (`invalid_issuer`, `missing_required_scopes`, ...). */
class BearerAuthException(
    code: String,
    message: String? = null,
    details: ErrorDetails = ErrorDetails(),
) : McpAuthException(ErrorKind.BEARER_AUTH, code, message, details)

/** The token is not valid (`invalid_token`, `token_verification_failed`). */
class TokenVerificationException(
    code: String,
    message: String? = null,
    details: ErrorDetails = ErrorDetails(),
) : McpAuthException(ErrorKind.TOKEN_VERIFICATION, code, message, details)

/**
 * Why a request to an MCP endpoint could not be classified (`mcp_parse_error`,
 * `mcp_invalid_request`, `mcp_header_mismatch`, `mcp_body_too_large`,
 * `mcp_unsupported_media_type`). Guards never throw it: it is the [AuthResult.Rejected.error]
 * of the 400/413/415 answer they return.
 */
class RequestException(
    code: String,
    message: String? = null,
    details: ErrorDetails = ErrorDetails(),
) : McpAuthException(ErrorKind.REQUEST, code, message, details)

/** Runs a native call, turning its failures into [McpAuthException]s. */
internal inline fun <T> native(block: () -> T): T =
    try {
        block()
    } catch (e: NativeException) {
        throw McpAuthException.of(e)
    }
