/*
 * GSS-API (Kerberos) as "unavailable", for the release binary's static libgit2.
 *
 * Debian's libgit2.a is built with SPNEGO ("Negotiate") authentication for its own HTTP
 * transport, so it references these GSS-API calls, but its libgit2.pc does not say so, and no
 * static libgssapi_krb5 exists to link. lambda-deploy uses libgit2 for local repository work
 * only; it fetches and pushes notes through the git CLI, which brings its own authentication, so
 * libgit2's HTTP transport never runs. If it ever did, libgit2 would ask gss_indicate_mechs first
 * and, on the failure returned here, report "could not query mechanisms" instead of
 * authenticating: an error, never a crash.
 *
 * The declarations mirror <gssapi/gssapi.h> (RFC 2744) without needing its headers installed.
 * Built only by ci/support/build-release.sh.
 *
 * Hidden: the binary exports its own symbols (-export-dynamic), and libcurl, loaded later, brings
 * the real libgssapi_krb5 for proxy authentication; exported, these would take its place.
 */
#include <stdint.h>

#pragma GCC visibility push(hidden)

typedef uint32_t OM_uint32;
typedef void *gss_any;

/* GSS_S_FAILURE: RFC 2744 section 3.9.1, routine error 13 in the high 16 bits. */
#define LAMBDA_DEPLOY_GSS_S_FAILURE (13u << 16)

static OM_uint32 unavailable(OM_uint32 *minor_status) {
    if (minor_status) *minor_status = 0;
    return LAMBDA_DEPLOY_GSS_S_FAILURE;
}

/* An OID nothing can use: the name type libgit2 passes to gss_import_name, which fails anyway. */
void *GSS_C_NT_HOSTBASED_SERVICE = 0;

OM_uint32 gss_indicate_mechs(OM_uint32 *minor, gss_any *mechs) {
    if (mechs) *mechs = 0;
    return unavailable(minor);
}
OM_uint32 gss_import_name(OM_uint32 *minor, gss_any name, gss_any type, gss_any *out) {
    (void)name; (void)type;
    if (out) *out = 0;
    return unavailable(minor);
}
OM_uint32 gss_init_sec_context(OM_uint32 *minor, gss_any cred, gss_any *context, gss_any target,
                               gss_any mech, OM_uint32 flags, OM_uint32 time, gss_any bindings,
                               gss_any input, gss_any *actual_mech, gss_any output,
                               OM_uint32 *ret_flags, OM_uint32 *ret_time) {
    (void)cred; (void)context; (void)target; (void)mech; (void)flags; (void)time;
    (void)bindings; (void)input; (void)output;
    if (actual_mech) *actual_mech = 0;
    if (ret_flags) *ret_flags = 0;
    if (ret_time) *ret_time = 0;
    return unavailable(minor);
}
OM_uint32 gss_display_status(OM_uint32 *minor, OM_uint32 status, int type, gss_any mech,
                             OM_uint32 *context, gss_any buffer) {
    (void)status; (void)type; (void)mech; (void)buffer;
    if (context) *context = 0;
    return unavailable(minor);
}
OM_uint32 gss_delete_sec_context(OM_uint32 *minor, gss_any *context, gss_any output) {
    (void)context; (void)output;
    if (minor) *minor = 0;
    return 0;
}
OM_uint32 gss_release_buffer(OM_uint32 *minor, gss_any buffer) {
    (void)buffer;
    if (minor) *minor = 0;
    return 0;
}
OM_uint32 gss_release_name(OM_uint32 *minor, gss_any *name) {
    (void)name;
    if (minor) *minor = 0;
    return 0;
}
OM_uint32 gss_release_oid_set(OM_uint32 *minor, gss_any *set) {
    (void)set;
    if (minor) *minor = 0;
    return 0;
}

#pragma GCC visibility pop
