package dev.mcpauth

import java.util.logging.Level
import java.util.logging.Logger
import dev.mcpauth.uniffi.AuthOutcome as NativeOutcome
import dev.mcpauth.uniffi.Authenticator as NativeAuthenticator
import dev.mcpauth.uniffi.BearerPolicy as NativeBearerPolicy
import dev.mcpauth.uniffi.BearerToken as NativeBearerToken
import dev.mcpauth.uniffi.Rejection as NativeRejection

/** What a guard decided about one request. */
sealed interface AuthResult {
    /** The request may go on, as [authInfo]. */
    data class Authenticated(
        val authInfo: AuthInfo,
    ) : AuthResult

    /**
     * The request is refused: answer [status] with the JSON [body] and, for 401/403, the
     * `WWW-Authenticate` challenge [wwwAuthenticate]. [error] says why (for logs).
     */
    data class Rejected(
        val status: Int,
        val body: String,
        val wwwAuthenticate: String?,
        val error: McpAuthException,
    ) : AuthResult
}

/** The guard of a protected resource's routes. Framework integrations call [authenticate]. */
interface BearerAuth {
    /** The resource identifier this guard protects. */
    val resource: String

    /** Checks one request's `Authorization` header (`null` when absent). */
    suspend fun authenticate(authorizationHeader: String?): AuthResult
}

private fun rejected(
    r: NativeRejection,
    logger: Logger,
): AuthResult.Rejected {
    val error = McpAuthException.of(r.error)
    // Why a request was refused helps operators; the token itself is never logged.
    logger.log(if (r.response.status.toInt() >= 500) Level.WARNING else Level.FINE) { "mcp-auth: request refused: $error" }
    return AuthResult.Rejected(r.response.status.toInt(), r.response.bodyJson, r.response.wwwAuthenticate, error)
}

internal class NativeBearerAuth(
    override val resource: String,
    private val native: NativeAuthenticator,
    private val logger: Logger,
) : BearerAuth {
    override suspend fun authenticate(authorizationHeader: String?): AuthResult {
        // Cached keys and metadata answer without suspending; only a fetch goes async.
        val outcome = native.authenticateNow(authorizationHeader) ?: native.authenticate(authorizationHeader)
        // What core found worth saying once (a key server publishing a private key, say).
        dev.mcpauth.uniffi
            .takeNotices()
            .forEach { logger.warning(it) }
        return when (outcome) {
            is NativeOutcome.Authenticated -> AuthResult.Authenticated(AuthInfo.of(outcome.info))
            is NativeOutcome.Rejected -> rejected(outcome.rejection, logger)
        }
    }
}

internal class CustomBearerAuth(
    override val resource: String,
    private val policy: NativeBearerPolicy,
    private val verify: suspend (String) -> AuthInfo,
    private val logger: Logger,
) : BearerAuth {
    override suspend fun authenticate(authorizationHeader: String?): AuthResult {
        val token =
            when (val parsed = policy.bearerToken(authorizationHeader)) {
                is NativeBearerToken.Rejected -> return rejected(parsed.rejection, logger)
                is NativeBearerToken.Token -> parsed.token
            }
        val info =
            try {
                verify(token)
            } catch (e: McpAuthException) {
                val response = policy.respond(e.toNative())
                return rejected(NativeRejection(e.toNative(), response), logger)
            }
        policy.check(info.toNative())?.let { return rejected(it, logger) }
        return AuthResult.Authenticated(info)
    }
}
