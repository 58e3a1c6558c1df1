package dev.mcpauth

import java.util.logging.Level
import java.util.logging.Logger
import dev.mcpauth.uniffi.AuthOutcome as NativeOutcome
import dev.mcpauth.uniffi.Authenticator as NativeAuthenticator
import dev.mcpauth.uniffi.BearerPolicy as NativeBearerPolicy
import dev.mcpauth.uniffi.BearerToken as NativeBearerToken
import dev.mcpauth.uniffi.CheckOutcome as NativeCheck
import dev.mcpauth.uniffi.McpHttpRequest as NativeRequest
import dev.mcpauth.uniffi.OperationDecision as NativeDecision
import dev.mcpauth.uniffi.Rejection as NativeRejection
import dev.mcpauth.uniffi.RequestCredentials as NativeCredentials

/** What a guard decided about one request. */
sealed interface AuthResult {
    /**
     * The request may go on, as [authInfo]. [operations] are what its JSON-RPC body asks for
     * when the guard has per-operation rules (empty otherwise, and for requests without a body).
     */
    data class Authenticated(
        val authInfo: AuthInfo,
        val operations: List<McpOperation> = emptyList(),
        /** Headers to add to the application's answer (`DPoP-Nonce` on routes with DPoP nonces). */
        val headers: List<Pair<String, String>> = emptyList(),
    ) : AuthResult

    /**
     * The request is refused: answer [status] with the JSON [body], each of [challenges] as its
     * own `WWW-Authenticate` field line ([wwwAuthenticate] is them joined, for one field) and
     * every one of [headers] (`DPoP-Nonce`). [error] says why (for logs). A body that
     * per-operation rules cannot classify is answered 400/413/415 with a JSON-RPC error body
     * and no challenge ([error] is a [RequestException]).
     */
    data class Rejected(
        val status: Int,
        val body: String,
        val wwwAuthenticate: String?,
        val error: McpAuthException,
        val challenges: List<String> = listOfNotNull(wwwAuthenticate),
        val headers: List<Pair<String, String>> = emptyList(),
    ) : AuthResult
}

/** One thing an MCP request asks for: a JSON-RPC [method] and the tool, prompt or resource URI it names. */
data class McpOperation(
    val method: String,
    val name: String? = null,
)

/**
 * One HTTP request to an MCP endpoint, as a guard with per-operation rules reads it: header
 * values as sent (a header sent several times joined with `", "`), `null` when absent, and
 * the body bytes read as [BearerAuth.bodyLimit] asked (`null` when it asked for none).
 */
class McpHttpRequest(
    val method: String,
    val authorization: String? = null,
    val contentType: String? = null,
    val contentLength: String? = null,
    /** `MCP-Protocol-Version`. */
    val protocolVersion: String? = null,
    /** `Mcp-Method`. */
    val mcpMethod: String? = null,
    /** `Mcp-Name`. */
    val mcpName: String? = null,
    val body: ByteArray? = null,
    /** Every `DPoP` header field value, one element per field line, in order. */
    val dpop: List<String> = emptyList(),
    /**
     * The request target as the client sent it (raw, still percent-encoded, with any prefix a
     * proxy strips): a DPoP proof's `htu` must name the resource identifier's origin plus this path.
     */
    val path: String? = null,
) {
    // Neither the token nor the body belongs in a log line.
    override fun toString(): String = "McpHttpRequest($method, contentType=$contentType, body=${body?.size} bytes)"

    internal fun toNative() = NativeRequest(method, contentType, contentLength, protocolVersion, mcpMethod, mcpName, body)
}

/** The guard of a protected resource's routes. Framework integrations call [authenticate]. */
interface BearerAuth {
    /** The resource identifier this guard protects. */
    val resource: String

    /**
     * Checks one request's `Authorization` header (`null` when absent): the token and the
     * route's [BearerAuthConfig.requiredScopes]. Per-operation rules and DPoP proofs need the
     * request itself: integrations call `authenticate(McpHttpRequest)` (this one takes bearer
     * tokens only).
     */
    suspend fun authenticate(authorizationHeader: String?): AuthResult

    /**
     * How many body bytes [authenticate] needs for [method] with this `Content-Length`: read at
     * most that many (stop there; the guard answers 413 for more) and hand them over. `null`:
     * do not read the body.
     */
    fun bodyLimit(
        method: String,
        contentLength: String?,
    ): Long? = null

    /** Checks one HTTP request: the token, then, with per-operation rules, what its body asks for. */
    suspend fun authenticate(request: McpHttpRequest): AuthResult = authenticate(request.authorization)
}

private fun rejected(
    r: NativeRejection,
    logger: Logger,
): AuthResult.Rejected {
    val error = McpAuthException.of(r.error)
    // Why a request was refused helps operators; the token and the body are never logged.
    logger.log(if (r.response.status.toInt() >= 500) Level.WARNING else Level.FINE) { "mcp-auth: request refused: $error" }
    return AuthResult.Rejected(
        r.response.status.toInt(),
        r.response.bodyJson,
        r.response.wwwAuthenticate,
        error,
        r.response.challenges,
        r.response.headers.map { it.name to it.value },
    )
}

// uniffi's u64; no JVM array is larger than Int.MAX_VALUE anyway.
private fun limit(n: ULong?): Long? = n?.let { minOf(it, Int.MAX_VALUE.toULong()).toLong() }

internal class NativeBearerAuth(
    override val resource: String,
    private val native: NativeAuthenticator,
    private val logger: Logger,
    private val clock: (() -> Double)? = null,
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

    override fun bodyLimit(
        method: String,
        contentLength: String?,
    ): Long? = limit(native.bodyLimit(method, contentLength))

    override suspend fun authenticate(request: McpHttpRequest): AuthResult {
        val r = request.toNative()
        val credentials = credentials(request)
        return result(native.checkRequestNow(credentials, r) ?: native.checkRequest(credentials, r))
    }

    /**
     * [request], whose caller [earlier] a guard of this resource accepted in this very request:
     * the whole check but the DPoP replay record that guard made.
     */
    suspend fun authenticateAccepted(
        request: McpHttpRequest,
        earlier: AuthInfo,
    ): AuthResult {
        val r = request.toNative()
        val credentials = credentials(request)
        val info = earlier.toNative()
        return result(native.checkAcceptedNow(credentials, r, info) ?: native.checkAccepted(credentials, r, info))
    }

    private fun credentials(request: McpHttpRequest) =
        NativeCredentials(request.authorization, request.dpop, request.path ?: "", clock?.invoke())

    private fun result(outcome: NativeCheck): AuthResult =
        when (val o = outcome) {
            is NativeCheck.Accepted -> {
                AuthResult.Authenticated(
                    AuthInfo.of(o.info),
                    o.operations.map { McpOperation(it.method, it.name) },
                    o.headers.map { it.name to it.value },
                )
            }

            is NativeCheck.Rejected -> {
                rejected(o.rejection, logger)
            }
        }
}

internal class CustomBearerAuth(
    override val resource: String,
    private val policy: NativeBearerPolicy,
    private val verify: suspend (String) -> AuthInfo,
    private val logger: Logger,
) : BearerAuth {
    /** The user's verifier on the header's token: its [AuthInfo], or the answer to its failure. */
    private suspend fun verified(authorizationHeader: String?): AuthResult {
        val token =
            when (val parsed = policy.bearerToken(authorizationHeader)) {
                is NativeBearerToken.Rejected -> return rejected(parsed.rejection, logger)
                is NativeBearerToken.Token -> parsed.token
            }
        return try {
            AuthResult.Authenticated(verify(token))
        } catch (e: McpAuthException) {
            val response = policy.respond(e.toNative())
            rejected(NativeRejection(e.toNative(), response), logger)
        }
    }

    override suspend fun authenticate(authorizationHeader: String?): AuthResult {
        val result = verified(authorizationHeader)
        if (result !is AuthResult.Authenticated) return result
        policy.check(result.authInfo.toNative())?.let { return rejected(it, logger) }
        return result
    }

    override fun bodyLimit(
        method: String,
        contentLength: String?,
    ): Long? = limit(policy.bodyLimit(method, contentLength))

    override suspend fun authenticate(request: McpHttpRequest): AuthResult {
        val result = verified(request.authorization)
        if (result !is AuthResult.Authenticated) return result
        return when (val d = policy.decide(result.authInfo.toNative(), request.toNative())) {
            is NativeDecision.Allowed -> result.copy(operations = d.operations.map { McpOperation(it.method, it.name) })
            is NativeDecision.Rejected -> rejected(d.rejection, logger)
        }
    }
}
