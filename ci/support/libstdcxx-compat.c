/*
 * Keeps the release binary's libstdc++ floor at GCC 11 (GLIBCXX_3.4.29): Amazon Linux 2023 and
 * RHEL 9 ship GCC 11's libstdc++, Debian 12 and Ubuntu 22.04 GCC 12's.
 *
 * GCC 12 gave std::condition_variable::wait(std::unique_lock<std::mutex>&) a new symbol version,
 * GLIBCXX_3.4.30, when it dropped the function's `noexcept` so that cancelling a waiting thread
 * can unwind it (the old version, GLIBCXX_3.4.11, is still there and still noexcept). ICU's
 * umutex.cpp and unifiedcache.cpp call it, and linking on Debian 12 binds them to 3.4.30, which
 * makes the dynamic loader refuse to start the binary with GCC 11's libstdc++ ("version
 * `GLIBCXX_3.4.30' not found"). Nothing in lambda-deploy cancels threads, so the old version
 * behaves the same: ci/support/build-release.sh links with
 * --wrap=_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE, which sends ICU's calls
 * here, and this calls the GLIBCXX_3.4.11 version every libstdc++ since GCC 4.3 has.
 *
 * The member function's ABI is a plain call with `this` and the lock's address. Built only by
 * ci/support/build-release.sh, for x86_64 Linux.
 */

void lambda_deploy_condition_variable_wait_3_4_11(void *condition_variable, void *unique_lock);
__asm__(".symver lambda_deploy_condition_variable_wait_3_4_11, "
        "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE@GLIBCXX_3.4.11");

void __wrap__ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE(void *condition_variable, void *unique_lock);
__attribute__((visibility("hidden"))) void
__wrap__ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE(void *condition_variable, void *unique_lock) {
    lambda_deploy_condition_variable_wait_3_4_11(condition_variable, unique_lock);
}
