package dev.mcpauth.ktor

import dev.mcpauth.AuthInfo
import dev.mcpauth.AuthResult
import dev.mcpauth.BearerAuth
import dev.mcpauth.McpAuth
import dev.mcpauth.McpHttpRequest
import dev.mcpauth.McpOperation
import dev.mcpauth.NativeBearerAuth
import io.ktor.http.ContentType
import io.ktor.http.HttpHeaders
import io.ktor.http.HttpStatusCode
import io.ktor.http.decodeURLPart
import io.ktor.server.application.ApplicationCall
import io.ktor.server.application.ApplicationCallPipeline
import io.ktor.server.application.Hook
import io.ktor.server.application.createRouteScopedPlugin
import io.ktor.server.application.install
import io.ktor.server.request.ApplicationReceivePipeline
import io.ktor.server.request.httpMethod
import io.ktor.server.request.receiveChannel
import io.ktor.server.request.uri
import io.ktor.server.response.header
import io.ktor.server.response.respond
import io.ktor.server.response.respondText
import io.ktor.server.routing.PathSegmentConstantRouteSelector
import io.ktor.server.routing.Route
import io.ktor.server.routing.RouteSelector
import io.ktor.server.routing.RouteSelectorEvaluation
import io.ktor.server.routing.RoutingResolveContext
import io.ktor.server.routing.get
import io.ktor.server.routing.options
import io.ktor.util.AttributeKey
import io.ktor.utils.io.ByteReadChannel
import io.ktor.utils.io.readRemaining
import kotlinx.io.readByteArray

/** Where a protected route keeps the caller's [AuthInfo]. */
val AuthInfoKey: AttributeKey<AuthInfo> = AttributeKey("mcp-auth.AuthInfo")

/**
 * The caller of a request that passed a [McpBearerAuth] guard or the [mcpBearer] authentication
 * provider; `null` on unprotected routes.
 */
val ApplicationCall.authInfo: AuthInfo? get() = attributes.getOrNull(AuthInfoKey)

private val OperationsKey: AttributeKey<List<McpOperation>> = AttributeKey("mcp-auth.Operations")

/**
 * What the JSON-RPC body of a request that passed a guard with per-operation rules asks for
 * (the tools called, resources read, ...); empty on other routes and for requests without a body.
 */
val ApplicationCall.mcpOperations: List<McpOperation> get() = attributes.getOrNull(OperationsKey) ?: emptyList()

/** The body bytes a guard read: every later receive of the call gets exactly these. */
private val BodyKey: AttributeKey<ByteArray> = AttributeKey("mcp-auth.Body")

// Browser-based MCP clients read the metadata cross-origin, as with the Python and Node packages.
private val corsHeaders =
    listOf(
        HttpHeaders.AccessControlAllowOrigin to "*",
        HttpHeaders.AccessControlAllowMethods to "GET, OPTIONS",
        HttpHeaders.AccessControlAllowHeaders to "*",
    )

/**
 * Serves each protected resource's metadata (RFC 9728) at its well-known path, with CORS, and
 * with `dpop_signing_alg_values_supported` / `dpop_bound_access_tokens_required` when the
 * resource's guards have DPoP settings ([dev.mcpauth.BearerAuthConfig.dpop]). Mount it outside
 * any [McpBearerAuth] guard: clients read it before they have a token.
 */
fun Route.protectedResourceMetadata(mcpAuth: McpAuth) {
    for (resource in mcpAuth.resources) {
        // Each segment is literal: a `{` or `*` in a resource path is no route pattern here.
        val route =
            mcpAuth.metadataPath(resource).split('/').filter(String::isNotEmpty).fold(this) { parent, segment ->
                parent.createChild(PathSegmentConstantRouteSelector(segment.decodeURLPart()))
            }
        route.get {
            corsHeaders.forEach { (k, v) -> call.response.header(k, v) }
            // Read per request: the DPoP members come from the resource's guards, which may be
            // built after this route.
            call.respondText(mcpAuth.metadataDocument(resource), ContentType.Application.Json)
        }
        route.options {
            corsHeaders.forEach { (k, v) -> call.response.header(k, v) }
            call.respond(HttpStatusCode.NoContent)
        }
    }
}

/**
 * Answers a refused request: status, exact JSON body, each `WWW-Authenticate` challenge on its
 * own field line (`Bearer ...`, `DPoP algs="..."`) and the other headers (`DPoP-Nonce`).
 */
suspend fun ApplicationCall.respondRejection(rejection: AuthResult.Rejected) {
    rejection.challenges.forEach { response.headers.append(HttpHeaders.WWWAuthenticate, it) }
    addHeaders(rejection.headers)
    respondText(rejection.body, ContentType.Application.Json, HttpStatusCode.fromValue(rejection.status))
}

// One of each (a `DPoP-Nonce` of an earlier guard of the call stays the one sent).
private fun ApplicationCall.addHeaders(headers: List<Pair<String, String>>) {
    headers.forEach { (k, v) -> if (response.headers[k] == null) response.headers.append(k, v) }
}

/** Which resource's guard accepted this call: a later guard of that resource takes its caller. */
private val AcceptedForKey: AttributeKey<String> = AttributeKey("mcp-auth.AcceptedFor")

/**
 * [guard]'s decision on this call, published on success ([authInfo], `DPoP-Nonce`). When a guard
 * of the same resource accepted the call already (the provider around a route with the plugin,
 * or nested plugins), this one checks it in full but does not record its DPoP proof again: a
 * proof counts once, and a second record would find it replayed.
 */
internal suspend fun ApplicationCall.decide(
    guard: BearerAuth,
    request: McpHttpRequest,
): AuthResult {
    val earlier = attributes.getOrNull(AuthInfoKey)
    val result =
        if (earlier != null && guard is NativeBearerAuth && attributes.getOrNull(AcceptedForKey) == guard.resource) {
            guard.authenticateAccepted(request, earlier)
        } else {
            guard.authenticate(request)
        }
    if (result is AuthResult.Authenticated) {
        attributes.put(AuthInfoKey, result.authInfo)
        attributes.put(AcceptedForKey, guard.resource)
        addHeaders(result.headers)
    }
    return result
}

class McpBearerAuthConfig {
    /** The guard, from [McpAuth.bearerAuth]. */
    var guard: BearerAuth? = null

    /**
     * Picks the guard per call instead. Scopes per MCP tool, resource or prompt belong in the
     * guard's options ([dev.mcpauth.BearerAuthConfig.toolScopes], ...), which read the body
     * the one way the MCP SDK reads it.
     */
    var guardOf: (suspend (ApplicationCall) -> BearerAuth)? = null
}

/** Runs before the route's handlers and ends the call when the guard answered it. */
private object BeforeHandlers : Hook<suspend (ApplicationCall) -> Boolean> {
    override fun install(
        pipeline: ApplicationCallPipeline,
        handler: suspend (ApplicationCall) -> Boolean,
    ) {
        pipeline.intercept(ApplicationCallPipeline.Plugins) {
            if (!handler(context)) finish()
        }
    }
}

/** Hands the bytes a guard read to every receive of the call after it (the MCP SDK's included). */
private object ReplayBody : Hook<(ApplicationCall) -> ByteArray?> {
    override fun install(
        pipeline: ApplicationCallPipeline,
        handler: (ApplicationCall) -> ByteArray?,
    ) {
        pipeline.receivePipeline.intercept(ApplicationReceivePipeline.Before) {
            handler(context)?.let { proceedWith(ByteReadChannel(it)) }
        }
    }
}

/** A header as sent; several fields of it joined with ", " (how core compares them). */
private fun ApplicationCall.header(name: String): String? = request.headers.getAll(name)?.joinToString(", ")

/**
 * The request as a guard reads it (the plugin and the [mcpBearer] provider alike); [body] as
 * [BearerAuth.bodyLimit] asked, `null` when it asked for none.
 */
internal fun ApplicationCall.mcpHttpRequest(body: ByteArray?): McpHttpRequest =
    McpHttpRequest(
        method = request.httpMethod.value,
        authorization = request.headers[HttpHeaders.Authorization],
        contentType = header(HttpHeaders.ContentType),
        contentLength = header(HttpHeaders.ContentLength),
        protocolVersion = header("MCP-Protocol-Version"),
        mcpMethod = header("Mcp-Method"),
        mcpName = header("Mcp-Name"),
        body = body,
        // Each field line on its own: core refuses more than one proof.
        dpop = request.headers.getAll("DPoP") ?: emptyList(),
        // The request target as sent, never rebuilt from Host or routing.
        path = request.uri,
    )

/**
 * The body a guard asked for, read once: at most [limit] bytes (core answers 413 when they
 * reach it), through the receive pipeline, so core sees what the handler would.
 */
private suspend fun ApplicationCall.bodyFor(limit: Long): ByteArray {
    attributes.getOrNull(BodyKey)?.let { return it }
    val bytes = if (limit <= 0) ByteArray(0) else receiveChannel().readRemaining(limit).readByteArray()
    attributes.put(BodyKey, bytes)
    return bytes
}

/**
 * Protects a route and everything below it: requests without a valid token are answered
 * 401/403 (or 500 when the authorization server fails, 503 when a DPoP replay store cannot
 * answer) exactly as the Python and Node packages answer; the others reach the handlers with
 * [authInfo] set (and `DPoP-Nonce` on the answer when the guard's DPoP nonces are on).
 * Exceptions of the handlers are not touched.
 *
 * With per-operation rules ([dev.mcpauth.BearerAuthConfig.toolScopes], ...) the body of a POST
 * is read here, bounded, decided on by core, and replayed byte for byte to the handlers (the MCP
 * SDK's transport): no `DoubleReceive` needed. Streaming responses (SSE) are not touched.
 *
 * ```
 * routing {
 *     route("/mcp") {
 *         install(McpBearerAuth) { guard = mcpAuth.bearerAuth(resource) { audience = resource } }
 *     }
 * }
 * ```
 */
val McpBearerAuth =
    createRouteScopedPlugin("McpBearerAuth", ::McpBearerAuthConfig) {
        val fixed = pluginConfig.guard
        val guardOf =
            pluginConfig.guardOf
                ?: requireNotNull(fixed) { "McpBearerAuth needs a guard: `guard = mcpAuth.bearerAuth(resource)`." }.let { g -> { g } }
        on(ReplayBody) { call -> call.attributes.getOrNull(BodyKey) }
        on(BeforeHandlers) { call ->
            val guard = guardOf(call)
            val limit = guard.bodyLimit(call.request.httpMethod.value, call.header(HttpHeaders.ContentLength))
            val request = call.mcpHttpRequest(limit?.let { call.bodyFor(it) })
            when (val result = call.decide(guard, request)) {
                is AuthResult.Authenticated -> {
                    call.attributes.put(OperationsKey, result.operations)
                    true
                }

                is AuthResult.Rejected -> {
                    call.respondRejection(result)
                    false
                }
            }
        }
    }

/**
 * A route that only groups its children under one guard; it matches whatever its parent matches.
 * Compared by identity, so two guards under one parent stay two routes.
 */
private class GuardSelector(
    private val resource: String,
) : RouteSelector() {
    override suspend fun evaluate(
        context: RoutingResolveContext,
        segmentIndex: Int,
    ): RouteSelectorEvaluation = RouteSelectorEvaluation.Transparent

    override fun toString(): String = "(mcp-auth $resource)"
}

/**
 * Routes declared in [build] are protected by [guard] (the same as installing [McpBearerAuth]).
 *
 * ```
 * routing {
 *     bearerAuth(mcpAuth.bearerAuth(resource) { audience = resource; requiredScopes = listOf("read") }) {
 *         get("/notes") { call.respond(notesOf(call.authInfo!!.subject)) }
 *     }
 * }
 * ```
 */
fun Route.bearerAuth(
    guard: BearerAuth,
    build: Route.() -> Unit,
): Route {
    val child = createChild(GuardSelector(guard.resource))
    child.install(McpBearerAuth) { this.guard = guard }
    child.build()
    return child
}
