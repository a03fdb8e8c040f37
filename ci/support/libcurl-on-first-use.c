/*
 * libcurl for the release binary, loaded on the first call instead of at start-up.
 *
 * Why: Debian's libcurl.so.4 brings some 30 libraries with it (nghttp2, libssh2, GnuTLS and
 * OpenSSL, Kerberos, LDAP, ...). Loading and relocating them costs ~7 ms of CPU on every start,
 * more than the whole `--version` budget (5 ms), and `hook pre-push` (every `git push`),
 * `history` and `plan` never make a request. So the binary does not list libcurl.so.4 as NEEDED:
 * each curl_* function it calls is a two-instruction trampoline here; the first call to any of
 * them dlopen()s libcurl.so.4, looks every function up once, and from then on each trampoline
 * jumps straight into libcurl. Looking functions up with dlsym() also binds them to whatever
 * symbol version the system's libcurl uses (Debian tags them CURL_OPENSSL_4, Amazon Linux and
 * Fedora do not), so no "no version information available" warning is ever printed.
 *
 * If libcurl.so.4 cannot be loaded, the first network call prints one line naming the fix and
 * exits 1: nothing has been sent to AWS at that point.
 *
 * CURL_FUNCTIONS_HEADER, written by ci/support/build-release.sh, lists `CURL_FUNCTION(index, name)`
 * for every function the build machine's libcurl exports; a function this libcurl lacks (an
 * older one at run time) is only an error if it is called.
 *
 * x86-64 System V only (the release target). Built only by ci/support/build-release.sh.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#ifndef CURL_FUNCTIONS_HEADER
#error "build with -DCURL_FUNCTIONS_HEADER='\"names.h\"' (ci/support/build-release.sh does)"
#endif

#define LIBCURL_SONAME "libcurl.so.4"

static const char *const function_names[] = {
#define CURL_FUNCTION(index, name) [index] = #name,
#include CURL_FUNCTIONS_HEADER
#undef CURL_FUNCTION
};
enum { function_count = sizeof function_names / sizeof function_names[0] };

/* Before the first call each slot points at its function's resolver stub; after, at libcurl. */
#define CURL_FUNCTION(index, name) extern char lambda_deploy_curl_resolve_##index[];
#include CURL_FUNCTIONS_HEADER
#undef CURL_FUNCTION
__attribute__((visibility("hidden"))) void *lambda_deploy_curl_slots[function_count] = {
#define CURL_FUNCTION(index, name) [index] = lambda_deploy_curl_resolve_##index,
#include CURL_FUNCTIONS_HEADER
#undef CURL_FUNCTION
};

/* Written once, under pthread_once, before any slot points into libcurl. */
static _Bool found[function_count];

static void load(void) {
    void *library = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        const char *reason = dlerror();
        fprintf(stderr, "lambda-deploy: cannot load " LIBCURL_SONAME " (%s); install libcurl "
                        "(Debian/Ubuntu: apt-get install libcurl4; RHEL/Amazon Linux: dnf install libcurl)\n",
                reason ? reason : "not found");
        _exit(1);
    }
    for (size_t index = 0; index < function_count; index++) {
        void *function = dlsym(library, function_names[index]);
        if (function) {
            found[index] = 1;
            __atomic_store_n(&lambda_deploy_curl_slots[index], function, __ATOMIC_RELEASE);
        }
        /* else the slot keeps pointing at the resolver stub, which lands in the check below. */
    }
}

/* Called by the resolver stubs, with every argument register saved: loads libcurl once. */
__attribute__((visibility("hidden"))) void lambda_deploy_curl_load(size_t index) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load);
    if (!found[index]) {
        fprintf(stderr, "lambda-deploy: the system's " LIBCURL_SONAME " has no %s; install a newer "
                        "libcurl (Debian/Ubuntu: libcurl4; RHEL/Amazon Linux: libcurl)\n",
                function_names[index]);
        _exit(1);
    }
}

/*
 * Per function: the trampoline (`curl_easy_init: jmp *slot`), hidden so libcurl never binds to it,
 * and the resolver stub the slot first points at, which pushes the index and goes to the common
 * resolver. Each trampoline has a section of its own, so the linker's --gc-sections drops the
 * ones nothing calls: `nm` on the linked binary lists exactly the libcurl functions it uses
 * (ci/release.sh derives the package's minimum libcurl version from them).
 */
#define CURL_FUNCTION(index, name)                                                       \
    __asm__(".section .text.lambda_deploy_curl." #name ", \"ax\", @progbits\n"           \
            ".globl " #name "\n"                                                         \
            ".hidden " #name "\n"                                                        \
            ".type " #name ", @function\n"                                               \
            #name ":\n"                                                                  \
            "  jmp *lambda_deploy_curl_slots+8*" #index "(%rip)\n"                       \
            ".size " #name ", .-" #name "\n"                                             \
            ".text\n"                                                                    \
            ".globl lambda_deploy_curl_resolve_" #index "\n"                             \
            ".hidden lambda_deploy_curl_resolve_" #index "\n"                            \
            "lambda_deploy_curl_resolve_" #index ":\n"                                   \
            "  pushq $" #index "\n"                                                      \
            "  jmp lambda_deploy_curl_resolve_common\n");
#include CURL_FUNCTIONS_HEADER
#undef CURL_FUNCTION

/*
 * The common resolver. On entry the stack holds the index, then the caller's return address;
 * the argument registers hold the caller's arguments (%al: the vector register count of a
 * variadic call such as curl_easy_setopt). It saves them all, calls lambda_deploy_curl_load with
 * the stack 16-byte aligned, restores them, drops the index and jumps to the loaded function,
 * which returns straight to the original caller.
 */
__asm__(".text\n"
        ".type lambda_deploy_curl_resolve_common, @function\n"
        "lambda_deploy_curl_resolve_common:\n"
        "  pushq %rdi\n  pushq %rsi\n  pushq %rdx\n  pushq %rcx\n"
        "  pushq %r8\n  pushq %r9\n  pushq %rax\n"
        "  subq $136, %rsp\n" /* 7 pushes + the index + the return address: 136 keeps 16-byte alignment */
        "  movdqu %xmm0, 0(%rsp)\n  movdqu %xmm1, 16(%rsp)\n"
        "  movdqu %xmm2, 32(%rsp)\n  movdqu %xmm3, 48(%rsp)\n"
        "  movdqu %xmm4, 64(%rsp)\n  movdqu %xmm5, 80(%rsp)\n"
        "  movdqu %xmm6, 96(%rsp)\n  movdqu %xmm7, 112(%rsp)\n"
        "  movq 192(%rsp), %rdi\n" /* the index: 136 + 7 * 8 bytes up */
        "  call lambda_deploy_curl_load\n"
        "  movdqu 0(%rsp), %xmm0\n  movdqu 16(%rsp), %xmm1\n"
        "  movdqu 32(%rsp), %xmm2\n  movdqu 48(%rsp), %xmm3\n"
        "  movdqu 64(%rsp), %xmm4\n  movdqu 80(%rsp), %xmm5\n"
        "  movdqu 96(%rsp), %xmm6\n  movdqu 112(%rsp), %xmm7\n"
        "  addq $136, %rsp\n"
        "  popq %rax\n  popq %r9\n  popq %r8\n  popq %rcx\n"
        "  popq %rdx\n  popq %rsi\n  popq %rdi\n"
        "  popq %r11\n" /* the index */
        "  leaq lambda_deploy_curl_slots(%rip), %r10\n"
        "  jmp *(%r10,%r11,8)\n"
        ".size lambda_deploy_curl_resolve_common, .-lambda_deploy_curl_resolve_common\n");
