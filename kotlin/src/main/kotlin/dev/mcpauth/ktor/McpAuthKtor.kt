package dev.mcpauth.ktor

import dev.mcpauth.AuthInfo
import dev.mcpauth.AuthResult
import dev.mcpauth.BearerAuth
import dev.mcpauth.McpAuth
import io.ktor.http.ContentType
import io.ktor.http.HttpHeaders
import io.ktor.http.HttpStatusCode
import io.ktor.http.decodeURLPart
import io.ktor.server.application.ApplicationCall
import io.ktor.server.application.ApplicationCallPipeline
import io.ktor.server.application.Hook
import io.ktor.server.application.createRouteScopedPlugin
import io.ktor.server.application.install
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

/** Where a protected route keeps the caller's [AuthInfo]. */
val AuthInfoKey: AttributeKey<AuthInfo> = AttributeKey("mcp-auth.AuthInfo")

/** The caller of a request that passed a [McpBearerAuth] guard; `null` on unprotected routes. */
val ApplicationCall.authInfo: AuthInfo? get() = attributes.getOrNull(AuthInfoKey)

// Browser-based MCP clients read the metadata cross-origin, as with the Python and Node packages.
private val corsHeaders =
    listOf(
        HttpHeaders.AccessControlAllowOrigin to "*",
        HttpHeaders.AccessControlAllowMethods to "GET, OPTIONS",
        HttpHeaders.AccessControlAllowHeaders to "*",
    )

/**
 * Serves each protected resource's metadata (RFC 9728) at its well-known path, with CORS.
 * Mount it outside any [McpBearerAuth] guard: clients read it before they have a token.
 */
fun Route.protectedResourceMetadata(mcpAuth: McpAuth) {
    for (resource in mcpAuth.resources) {
        val document = mcpAuth.metadataDocument(resource)
        // Each segment is literal: a `{` or `*` in a resource path is no route pattern here.
        val route =
            mcpAuth.metadataPath(resource).split('/').filter(String::isNotEmpty).fold(this) { parent, segment ->
                parent.createChild(PathSegmentConstantRouteSelector(segment.decodeURLPart()))
            }
        route.get {
            corsHeaders.forEach { (k, v) -> call.response.header(k, v) }
            call.respondText(document, ContentType.Application.Json)
        }
        route.options {
            corsHeaders.forEach { (k, v) -> call.response.header(k, v) }
            call.respond(HttpStatusCode.NoContent)
        }
    }
}

/** Answers a refused request: status, exact JSON body and `WWW-Authenticate` challenge. */
suspend fun ApplicationCall.respondRejection(rejection: AuthResult.Rejected) {
    rejection.wwwAuthenticate?.let { response.header(HttpHeaders.WWWAuthenticate, it) }
    respondText(rejection.body, ContentType.Application.Json, HttpStatusCode.fromValue(rejection.status))
}

class McpBearerAuthConfig {
    /** The guard, from [McpAuth.bearerAuth]. */
    var guard: BearerAuth? = null

    /** Picks the guard per call instead (e.g. [mcpToolGuards]: stricter guards for some MCP tools). */
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

/**
 * Protects a route and everything below it: requests without a valid token are answered
 * 401/403 (or 500 when the authorization server fails) exactly as the Python and Node packages
 * answer; the others reach the handlers with [authInfo] set. Exceptions of the handlers are
 * not touched.
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
        on(BeforeHandlers) { call ->
            when (val result = guardOf(call).authenticate(call.request.headers[HttpHeaders.Authorization])) {
                is AuthResult.Authenticated -> {
                    call.attributes.put(AuthInfoKey, result.authInfo)
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
