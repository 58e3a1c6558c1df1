package dev.mcpauth

import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonObject
import java.util.logging.Logger
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import dev.mcpauth.uniffi.AuthPolicy as NativePolicy
import dev.mcpauth.uniffi.Authenticator as NativeAuthenticator
import dev.mcpauth.uniffi.AuthorizationServer as NativeServer
import dev.mcpauth.uniffi.ResourceConfig as NativeResource
import dev.mcpauth.uniffi.ResourceServer as NativeResourceServer

/** An authorization server a protected resource trusts. */
sealed interface AuthorizationServer {
    val issuer: String

    /** Known metadata (from [fetchServerConfig] or [AuthServerConfig.fromJson]), checked at start-up. */
    data class Metadata(
        val config: AuthServerConfig,
    ) : AuthorizationServer {
        override val issuer: String get() = config.issuer
    }

    /**
     * An issuer whose metadata is discovered on first use, so the server starts even while the
     * authorization server is down. Without a type, the discovery URLs MCP clients use are tried.
     */
    data class Discovery(
        override val issuer: String,
        val type: ServerType? = null,
    ) : AuthorizationServer

    private fun toNative(): NativeServer =
        when (this) {
            is Metadata -> NativeServer.Metadata(config.native)
            is Discovery -> NativeServer.Issuer(issuer, type?.toNative())
        }

    companion object {
        internal fun native(server: AuthorizationServer): NativeServer = server.toNative()
    }
}

/**
 * One protected resource (RFC 9728): its identifier (the URL clients connect to), the
 * authorization servers whose tokens it accepts, and what its metadata document says.
 */
data class ProtectedResource(
    val resource: String,
    val authorizationServers: List<AuthorizationServer>,
    val scopesSupported: List<String>? = null,
    /** Further RFC 9728 fields, snake_case (`resource_name`, `bearer_methods_supported`, ...). */
    val metadata: JsonObject? = null,
) {
    internal fun toNative() =
        NativeResource(resource, authorizationServers.map(AuthorizationServer::native), scopesSupported, metadata?.toString())
}

/** How the resource server authenticates to the introspection endpoint. */
enum class ClientAuthMethod {
    /** `Authorization: Basic` with the form-encoded client id and secret (the default). */
    CLIENT_SECRET_BASIC,

    /** `client_id` and `client_secret` in the form. */
    CLIENT_SECRET_POST,
}

/**
 * Token introspection (RFC 7662) for opaque access tokens: the resource server asks the
 * authorization server about each token, authenticated as the client [clientId].
 */
data class IntrospectionConfig(
    val clientId: String,
    val clientSecret: String,
    /** `null`: the `introspection_endpoint` of the (one) trusted authorization server's metadata. */
    val endpoint: String? = null,
    val authMethod: ClientAuthMethod = ClientAuthMethod.CLIENT_SECRET_BASIC,
    /** How long an active answer may be reused; `null` asks for every request. */
    val cacheTtl: Duration? = null,
    val timeout: Duration = 5.seconds,
) {
    override fun toString(): String = "IntrospectionConfig(clientId=$clientId, endpoint=$endpoint, authMethod=$authMethod)"

    internal fun toNative() =
        dev.mcpauth.uniffi.IntrospectionConfig(
            clientId,
            clientSecret,
            endpoint,
            if (authMethod == ClientAuthMethod.CLIENT_SECRET_POST) {
                dev.mcpauth.uniffi.ClientAuthMethod.CLIENT_SECRET_POST
            } else {
                dev.mcpauth.uniffi.ClientAuthMethod.CLIENT_SECRET_BASIC
            },
            cacheTtl?.let { it.inWholeMilliseconds / 1000.0 },
            timeout.inWholeMilliseconds / 1000.0,
        )
}

/**
 * What a protected route demands and how its tokens are checked.
 *
 * Scopes per operation ([toolScopes], [resourceScopes], [promptScopes], [methodScopes]) are
 * checked before the MCP handler runs, on top of [requiredScopes]: the guard reads the JSON-RPC
 * body (at most [maxBodyBytes]), and a token that lacks a scope is answered 403 with
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."` naming every scope the
 * request needs, so MCP clients can step up. A body that cannot be read the one way the MCP SDK
 * reads it (not UTF-8, not strict JSON, a key twice, `Mcp-Name` differing from the body) is
 * answered 400/413/415 with a JSON-RPC error, never decided by a default.
 */
class BearerAuthConfig {
    /**
     * The token's `aud` must contain this (RFC 8707). Default: the resource identifier (scheme and
     * host compared case-insensitively, one trailing `/` ignored).
     */
    var audience: String? = null

    /** Accept tokens issued for any audience; logged as a warning. */
    var acceptAnyAudience: Boolean = false

    /** Scopes the token must all have; 403 `insufficient_scope` otherwise. */
    var requiredScopes: List<String> = emptyList()

    /** Put the failure's cause into response bodies (for development). */
    var showErrorDetails: Boolean = false

    /** Clock skew tolerated for `exp`, `nbf` and `iat`. */
    var leeway: Duration = 60.seconds

    /** RFC 9068: the token's `typ` header must be `at+jwt`. */
    var requireAtJwt: Boolean = false

    /** Accepted signing algorithms (`RS256`, `ES256`, `EdDSA`, ...); `null` accepts every asymmetric one. */
    var algorithms: List<String>? = null

    /** Scopes a `tools/call` of each tool needs: `mapOf("add-todo" to listOf("create:todos"))`. */
    var toolScopes: Map<String, List<String>> = emptyMap()

    /**
     * Scopes a `resources/read` needs, by URI or URI template (`notes://{id}`, simple `{var}`
     * expressions); every matching entry counts.
     */
    var resourceScopes: Map<String, List<String>> = emptyMap()

    /** Scopes a `prompts/get` of each prompt needs. */
    var promptScopes: Map<String, List<String>> = emptyMap()

    /** Scopes each JSON-RPC method needs (`resources/list`, `tools/list`, ...). */
    var methodScopes: Map<String, List<String>> = emptyMap()

    /** Scopes that grant others: `mapOf("todos:admin" to listOf("create:todos", "delete:todos"))`. */
    var scopeHierarchy: Map<String, List<String>> = emptyMap()

    /** The largest body read for the rules, in bytes (4 MiB when `null`); larger ones are answered 413. */
    var maxBodyBytes: Int? = null

    /**
     * DPoP (RFC 9449) on this route: `dpop { mode = DpopMode.REQUIRED }`. `null` (the default):
     * bearer tokens only, and DPoP-bound tokens are refused as bearer tokens.
     */
    var dpop: DpopConfig? = null

    /** Sets [dpop]: `dpop { mode = DpopMode.ALLOWED; nonce = true; nonceSecret = secret }`. */
    fun dpop(configure: DpopConfig.() -> Unit) {
        dpop = DpopConfig().apply(configure)
    }

    /** The options above in the one snake_case shape core checks (unknown names cannot occur). */
    private fun operationsJson(): String {
        fun scopes(m: Map<String, List<String>>) = JsonObject(m.mapValues { (_, v) -> JsonArray(v.map(::JsonPrimitive)) })
        return buildJsonObject {
            put("tool_scopes", scopes(toolScopes))
            put("resource_scopes", scopes(resourceScopes))
            put("prompt_scopes", scopes(promptScopes))
            put("method_scopes", scopes(methodScopes))
            put("scope_hierarchy", scopes(scopeHierarchy))
            maxBodyBytes?.let { put("max_body_bytes", JsonPrimitive(it)) }
        }.toString()
    }

    internal fun toNative() =
        NativePolicy(
            audience,
            requiredScopes,
            showErrorDetails,
            leeway.inWholeMilliseconds / 1000.0,
            requireAtJwt,
            algorithms,
            operationsJson(),
            acceptAnyAudience,
            dpop?.toJson(),
        )
}

/**
 * The entry point: the protected resources of this server, their metadata documents, and the
 * guards of their routes.
 *
 * ```
 * val mcpAuth = McpAuth(
 *     ProtectedResource(
 *         resource = "https://api.example.com/mcp",
 *         authorizationServers = listOf(AuthorizationServer.Discovery(issuer, ServerType.OIDC)),
 *         scopesSupported = listOf("read", "write"),
 *     ),
 * )
 * ```
 *
 * Throws [AuthServerException] `invalid_server_config` for a configuration the Python and Node
 * packages refuse too (no resource, a resource or issuer twice, metadata unfit for MCP).
 */
class McpAuth(
    resources: List<ProtectedResource>,
    private val logger: Logger = Logger.getLogger("dev.mcpauth"),
) {
    constructor(vararg resources: ProtectedResource) : this(resources.toList())

    internal val native: NativeResourceServer = native { NativeResourceServer(resources.map { it.toNative() }) }

    /**
     * Per resource, a guard with DPoP settings and the metadata members they give: the
     * resource's document advertises them, so every DPoP guard of a resource must agree.
     */
    private val dpopGuards =
        java.util.concurrent.ConcurrentHashMap<String, Pair<NativeAuthenticator, String>>()

    private val audienceWarnings =
        java.util.concurrent.ConcurrentHashMap
            .newKeySet<String>()

    init {
        native.warnings().forEach { logger.warning(it) }
    }

    /** The resource identifiers, in configuration order. */
    val resources: List<String> get() = native.resources()

    /** The route path of a resource's metadata document (`/.well-known/oauth-protected-resource/mcp`). */
    fun metadataPath(resource: String): String = native { native.metadataPath(resource) }

    /** The URL of that document, as challenges advertise it. */
    fun metadataUrl(resource: String): String = native { native.metadataUrl(resource) }

    /**
     * The RFC 9728 document of a resource (JSON), with `dpop_signing_alg_values_supported` and
     * `dpop_bound_access_tokens_required` once a guard of the resource has DPoP settings.
     */
    fun metadataDocument(resource: String): String =
        native {
            when (val dpop = dpopGuards[resource]) {
                null -> native.metadataDocument(resource)
                else -> native.metadataDocumentFor(resource, dpop.first)
            }
        }

    /** A JWT or introspection guard, with the DPoP names in messages as Kotlin spells them. */
    private fun guard(
        resource: String,
        config: BearerAuthConfig,
        build: () -> NativeAuthenticator,
    ): BearerAuth {
        val guard =
            try {
                native(build)
            } catch (e: ConfigException) {
                if (e.code != DpopConfig.INVALID_DPOP_CONFIG) throw e
                throw ConfigException(e.code, DpopConfig.kotlinNames(e.message), e.details)
            }
        guard.dpopMetadataJson()?.let { fields ->
            val first = dpopGuards.putIfAbsent(resource, guard to fields)
            if (first != null && first.second != fields) {
                throw ConfigException(
                    DpopConfig.INVALID_DPOP_CONFIG,
                    "Another guard of `$resource` has other DPoP settings ($fields here, ${first.second} there): " +
                        "the resource's metadata document advertises one DPoP mode and algorithm list, so every guard of a " +
                        "resource needs the same `mode` and `algorithms`.",
                )
            }
        }
        return NativeBearerAuth(resource, guard, logger, config.dpop?.clock)
    }

    /**
     * The guard of a resource's routes for JWT access tokens, verified with the keys of the
     * resource's authorization servers (fetched and cached). Throws [ConfigException]
     * `invalid_operation_rules` or `invalid_scope_config` for per-operation options core refuses.
     */
    fun bearerAuth(
        resource: String,
        configure: BearerAuthConfig.() -> Unit = {},
    ): BearerAuth {
        val config = BearerAuthConfig().apply(configure)
        warnAboutAudience(resource, config)
        return guard(resource, config) { native.authenticator(resource, config.toNative()) }
    }

    /**
     * The guard of a resource's routes for opaque tokens, checked by introspection (RFC 7662)
     * at the resource's authorization server. [BearerAuthConfig.leeway] applies to `exp`/`nbf`.
     * Throws [ConfigException] `invalid_introspection_config` for an unusable configuration.
     */
    fun bearerAuth(
        resource: String,
        introspection: IntrospectionConfig,
        configure: BearerAuthConfig.() -> Unit = {},
    ): BearerAuth {
        val config = BearerAuthConfig().apply(configure)
        warnAboutAudience(resource, config)
        return guard(resource, config) { native.introspectionAuthenticator(resource, config.toNative(), introspection.toNative()) }
    }

    /**
     * The guard of a resource's routes with a verifier of your own (opaque tokens, introspection,
     * ...). It throws a [McpAuthException] subclass to refuse a token; the issuer, audience and
     * scopes of the [AuthInfo] it returns are still checked. Such a route takes bearer tokens
     * only: [BearerAuthConfig.dpop] is refused ([ConfigException] `invalid_dpop_config`).
     */
    fun bearerAuth(
        resource: String,
        verify: suspend (token: String) -> AuthInfo,
        configure: BearerAuthConfig.() -> Unit = {},
    ): BearerAuth {
        val config = BearerAuthConfig().apply(configure)
        warnAboutAudience(resource, config)
        return CustomBearerAuth(resource, native { native.bearerPolicy(resource, config.toNative()) }, verify, logger)
    }

    private fun warnAboutAudience(
        resource: String,
        config: BearerAuthConfig,
    ) {
        val warning = native { native.audienceWarning(resource, config.toNative()) } ?: return
        if (audienceWarnings.add(warning)) logger.warning(warning)
    }

    companion object {
        /**
         * Forgets the key sets and discovered metadata this process has cached, so the next
         * verification fetches them again (tests; processes that reconfigure tenants).
         */
        fun clearCaches() = dev.mcpauth.uniffi.clearCaches()
    }
}
