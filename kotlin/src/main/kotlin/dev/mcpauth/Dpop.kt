package dev.mcpauth

import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonObject
import kotlin.time.Duration

/** How a protected route treats DPoP (RFC 9449). */
enum class DpopMode {
    /** Bearer and DPoP-bound tokens both accepted; 401s offer both schemes. */
    ALLOWED,

    /** Only DPoP-bound tokens with a proof; bearer tokens are refused. */
    REQUIRED,

    /** Bearer only, as without DPoP settings; DPoP-bound tokens are still refused as bearer tokens. */
    OFF,
}

/**
 * DPoP (RFC 9449, sender-constrained tokens) on a protected route. A token bound to a key
 * (`cnf.jkt`) is accepted only with the `DPoP` scheme and a `DPoP` proof of that key for this
 * very request; a bound token sent as a bearer token is refused on every route, DPoP settings
 * or not. Unset options keep core's defaults; every value is checked when the guard is built
 * ([ConfigException] `invalid_dpop_config`).
 */
class DpopConfig {
    var mode: DpopMode = DpopMode.ALLOWED

    /** Proof algorithms accepted (`ES256`, `EdDSA`, ...); `null`: every asymmetric one. */
    var algorithms: List<String>? = null

    /** How far a proof's `iat` may be from now, either way (plus [leeway]); 5 minutes when `null`. */
    var iatWindow: Duration? = null

    /** Clock skew tolerated on top of [iatWindow]; `null`: the route's token leeway. */
    var leeway: Duration? = null

    /**
     * Server nonces (RFC 9449 §8): every answer carries a fresh `DPoP-Nonce` and a proof must
     * echo a recent one. Needs [nonceSecret].
     */
    var nonce: Boolean = false

    /**
     * The secret nonces are sealed under, at least 32 bytes; the same on every replica, so
     * that each opens the others' nonces. Unused while [nonce] is off.
     */
    var nonceSecret: String? = null

    /** How long a nonce stays valid; 5 minutes when `null`. */
    var nonceWindow: Duration? = null

    /** `"memory"` (one process, the default) or a `redis://` / `rediss://` URL shared by the replicas. */
    var replayStore: String? = null

    /** Live proofs the in-process store remembers at most. */
    var replayMaxEntries: Int? = null

    /** Time limit of every Redis call (500 ms when `null`). */
    var replayTimeout: Duration? = null

    /** Accept proofs unrecorded when Redis cannot answer; by default they are refused with 503. */
    var replayFailOpen: Boolean = false

    /** Prefix of the Redis keys. */
    var replayKeyPrefix: String? = null

    /** Test-only: "now" for the DPoP checks, in seconds since the epoch; `null` reads the clock. */
    internal var clock: (() -> Double)? = null

    override fun toString(): String =
        "DpopConfig(mode=$mode, algorithms=$algorithms, nonce=$nonce, replayStore=${replayStore?.let(::redacted)})"

    /** The options in the one snake_case shape core checks; the checks themselves are core's. */
    internal fun toJson(): String {
        fun seconds(
            name: String,
            d: Duration,
        ): JsonPrimitive {
            if (d.isInfinite()) throw invalid("`$name` must be a finite duration (got $d).")
            return JsonPrimitive(d.inWholeNanoseconds / 1e9)
        }
        if (nonce && nonceSecret == null) {
            throw invalid("`nonce = true` needs `nonceSecret`, at least 32 bytes, the same on every replica.")
        }
        return buildJsonObject {
            put("mode", JsonPrimitive(mode.name.lowercase()))
            algorithms?.let { put("algorithms", JsonArray(it.map(::JsonPrimitive))) }
            iatWindow?.let { put("iat_window", seconds("iatWindow", it)) }
            leeway?.let { put("leeway", seconds("leeway", it)) }
            if (nonce) put("nonce_secret", JsonPrimitive(nonceSecret))
            nonceWindow?.let { put("nonce_window", seconds("nonceWindow", it)) }
            replayStore?.let { put("replay_store", JsonPrimitive(it)) }
            replayMaxEntries?.let { put("replay_max_entries", JsonPrimitive(it)) }
            replayTimeout?.let {
                if (it.isInfinite()) throw invalid("`replayTimeout` must be a finite duration (got $it).")
                put("replay_timeout_ms", JsonPrimitive(it.inWholeMilliseconds))
            }
            put("replay_fail_open", JsonPrimitive(replayFailOpen))
            replayKeyPrefix?.let { put("replay_key_prefix", JsonPrimitive(it)) }
        }.toString()
    }

    internal companion object {
        const val INVALID_DPOP_CONFIG = "invalid_dpop_config"

        // Core names the snake_case members; the Kotlin user set the camelCase properties.
        private val names =
            listOf(
                "iat_window" to "iatWindow",
                "nonce_secret" to "nonceSecret",
                "nonce_window" to "nonceWindow",
                "replay_store" to "replayStore",
                "replay_max_entries" to "replayMaxEntries",
                "replay_timeout_ms" to "replayTimeout (in milliseconds)",
                "replay_fail_open" to "replayFailOpen",
                "replay_key_prefix" to "replayKeyPrefix",
            )

        fun kotlinNames(message: String): String = names.fold(message) { m, (snake, camel) -> m.replace("`$snake`", "`$camel`") }

        private fun invalid(message: String) = ConfigException(INVALID_DPOP_CONFIG, message)

        /** A Redis URL without its password, for logs. */
        private fun redacted(url: String): String = url.replace(Regex("//[^@/]*@"), "//***@")
    }
}
