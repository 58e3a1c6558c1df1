package dev.mcpauth.ktor

import dev.mcpauth.AuthInfo
import dev.mcpauth.AuthResult
import dev.mcpauth.BearerAuth
import io.ktor.http.HttpHeaders
import io.ktor.server.auth.AuthenticationConfig
import io.ktor.server.auth.AuthenticationContext
import io.ktor.server.auth.AuthenticationFailedCause
import io.ktor.server.auth.AuthenticationProvider

// Kept apart from McpAuthKtor.kt so that the plugin loads without ktor-server-auth on the classpath.

/**
 * A Ktor [AuthenticationProvider] backed by an mcp-auth guard: the token and the guard's
 * `requiredScopes` are decided by core, and refused requests get the answers of [McpBearerAuth]
 * (401 with `resource_metadata`, 403 `insufficient_scope` naming every scope, 500 without a
 * challenge when the authorization server fails). On success the principal is the caller's
 * [AuthInfo] (`call.principal<AuthInfo>()`), and [authInfo] is set as with the plugin.
 *
 * DPoP ([dev.mcpauth.BearerAuthConfig.dpop]) works as with the plugin: the `DPoP` header lines
 * and the request target go to core, and `DPoP-Nonce` is added to every answer when nonces are on.
 * With [McpBearerAuth] of the same resource inside `authenticate` as well, the guard that runs
 * second checks the call in full but does not record its DPoP proof again (a proof counts once).
 * Per-operation rules ([dev.mcpauth.BearerAuthConfig.toolScopes], ...) are refused here, see [mcpBearer].
 */
class McpBearerAuthenticationProvider internal constructor(
    config: Config,
    private val guard: BearerAuth,
) : AuthenticationProvider(config) {
    override suspend fun onAuthenticate(context: AuthenticationContext) {
        val call = context.call
        when (val result = call.decide(guard, call.mcpHttpRequest(body = null))) {
            is AuthResult.Authenticated -> {
                context.principal(name, result.authInfo)
            }

            is AuthResult.Rejected -> {
                // NoCredentials only when nothing was sent: `authenticate(optional = true)` then lets
                // the call through anonymously. A token that fails (or that could not be checked
                // because the authorization server is down) is always answered.
                val cause =
                    if (call.request.headers.contains(HttpHeaders.Authorization)) {
                        AuthenticationFailedCause.InvalidCredentials
                    } else {
                        AuthenticationFailedCause.NoCredentials
                    }
                context.challenge(ChallengeKey, cause) { challenge, c ->
                    c.respondRejection(result)
                    challenge.complete()
                }
            }
        }
    }

    class Config internal constructor(
        name: String?,
        description: String?,
    ) : AuthenticationProvider.Config(name, description) {
        /** The guard, from [dev.mcpauth.McpAuth.bearerAuth], without per-operation rules. */
        var guard: BearerAuth? = null
    }

    private companion object {
        val ChallengeKey: Any = "McpBearer"
    }
}

/**
 * Registers an mcp-auth guard as the Ktor authentication provider [name], for
 * `authenticate(name) { }` routes:
 *
 * ```
 * install(Authentication) {
 *     mcpBearer("mcp") { guard = mcpAuth.bearerAuth(resource) { audience = resource } }
 * }
 * routing {
 *     authenticate("mcp") {
 *         post("/mcp") { val caller = call.principal<AuthInfo>()!! }
 *     }
 * }
 * ```
 *
 * A guard with per-operation rules is refused with [IllegalArgumentException]: the rules decide
 * on the request body, and a provider has no supported way to hand the body it read back to the
 * MCP SDK's transport (Ktor marks the call as received, and only its own OAuth provider may
 * replay a body there). Install such a guard with [McpBearerAuth] or [bearerAuth] on the MCP
 * route, inside `authenticate(name) { }` if the principal is wanted too: the plugin reads the
 * body once, bounded, and replays those very bytes to the SDK; with DPoP, give both guards the
 * same `dpop { }` settings (the second guard does not record the proof again).
 */
fun AuthenticationConfig.mcpBearer(
    name: String? = null,
    description: String? = null,
    configure: McpBearerAuthenticationProvider.Config.() -> Unit,
) {
    val config = McpBearerAuthenticationProvider.Config(name, description).apply(configure)
    val label = name?.let { "mcpBearer(\"$it\")" } ?: "mcpBearer()"
    val guard = requireNotNull(config.guard) { "$label needs a guard: `guard = mcpAuth.bearerAuth(resource)`." }
    require(guard.bodyLimit("POST", null) == null) {
        "$label: the guard has per-operation rules (toolScopes, resourceScopes, promptScopes or methodScopes), " +
            "which read the request body, and an authentication provider cannot hand that body back to the MCP SDK. " +
            "Give mcpBearer a guard without them, and install the guard with the rules on the MCP route with " +
            "`install(McpBearerAuth) { guard = ... }` (inside `authenticate` if you want the principal too)."
    }
    register(McpBearerAuthenticationProvider(config, guard))
}
