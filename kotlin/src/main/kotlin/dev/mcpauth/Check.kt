package dev.mcpauth

import kotlinx.coroutines.runBlocking
import java.io.PrintStream
import kotlin.system.exitProcess

/** The provider checker's verdict: the report in plain words and the exit status. */
data class ProviderCheck(
    /** 0 compatible with MCP, 1 not compatible, 2 no metadata found ([text] is then the error). */
    val exitCode: Int,
    val text: String,
) {
    val compatible: Boolean get() = exitCode == 0
}

/**
 * Does this authorization server fit MCP? [target] is an issuer (discovered in the MCP order
 * unless [type] is given) or a metadata URL; the same report as `npx mcp-auth check`.
 */
suspend fun checkProvider(
    target: String,
    type: ServerType? = null,
): ProviderCheck {
    val report = dev.mcpauth.uniffi.checkProvider(target, type?.toNative())
    return ProviderCheck(report.exitCode, report.text)
}

private const val USAGE = """Usage: mcp-auth check <issuer or metadata URL> [--type oauth|oidc]

Fetches the authorization server's metadata (without --type, the MCP discovery order: OAuth
path-inserted, OIDC path-inserted, OIDC path-appended), checks that MCP clients can use it and
prints what passed, what is missing and what is wrong.

Exit status: 0 compatible, 1 not compatible, 2 metadata not found or bad arguments."""

/** The checker command: prints the report (on [err] when no metadata was found); its exit status. */
fun runCheck(
    args: List<String>,
    out: PrintStream = System.out,
    err: PrintStream = System.err,
): Int {
    val rest = args.dropWhile { it == "check" }
    val typeAt = rest.indexOf("--type")
    val type =
        if (typeAt < 0) {
            null
        } else {
            when (rest.getOrNull(typeAt + 1)) {
                "oauth" -> ServerType.OAUTH
                "oidc" -> ServerType.OIDC
                else -> return usage(err)
            }
        }
    val targets = rest.filterIndexed { i, _ -> typeAt < 0 || (i != typeAt && i != typeAt + 1) }
    if (targets.size != 1 || targets[0].startsWith("-")) return usage(err)
    val check = runBlocking { checkProvider(targets[0], type) }
    (if (check.exitCode == 2) err else out).print(check.text.let { if (it.endsWith("\n")) it else "$it\n" })
    return check.exitCode
}

private fun usage(err: PrintStream): Int {
    err.println(USAGE)
    return 2
}

/** `java -cp mcp-auth.jar:... dev.mcpauth.CheckKt <issuer or metadata URL> [--type oauth|oidc]` */
fun main(args: Array<String>) {
    exitProcess(runCheck(args.toList()))
}
