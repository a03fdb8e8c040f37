#include <git2.h>

/// git_libgit2_opts is variadic, which Swift cannot call: one fixed-argument wrapper per option used.
/// Turns off re-hashing every object read (git itself does not verify on read; the ledger reads
/// 10,000 note blobs for `history`, where SHA-1DC hashing costs about a third of the time).
static inline int clibgit2_set_strict_hash_verification(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, enabled);
}

/// Turns libgit2's object cache on or off. The ledger reads each note blob once and keeps what it
/// needs, so the cache only adds a locked insert (and its memory) per object read.
static inline int clibgit2_set_caching(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_CACHING, enabled);
}
