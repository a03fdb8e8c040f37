/*
 * Keeps the release binary's glibc floor at 2.34 (Ubuntu 22.04, Amazon Linux 2023, RHEL 9).
 *
 * glibc 2.35 gave hypot and hypotf new symbol versions (the old ones kept the SVID
 * error-handling wrapper; since glibc 2.27 no new program can turn SVID handling on, so both
 * versions return the same values and set errno the same way). Linking on Debian 12 (glibc 2.36)
 * binds the Swift runtime's Glibc overlay (hypotf) and Foundation's CGFloat (hypot) to the 2.35
 * versions, the only GLIBC_2.35 symbols in the binary. ci/support/build-release.sh links with
 * --wrap=hypot --wrap=hypotf, which sends those references here, and these call the versions
 * every x86_64 glibc has had since 2.2.5.
 *
 * Built only by ci/support/build-release.sh, for x86_64 Linux.
 */

double lambda_deploy_hypot_2_2_5(double x, double y);
float lambda_deploy_hypotf_2_2_5(float x, float y);
__asm__(".symver lambda_deploy_hypot_2_2_5, hypot@GLIBC_2.2.5");
__asm__(".symver lambda_deploy_hypotf_2_2_5, hypotf@GLIBC_2.2.5");

__attribute__((visibility("hidden"))) double __wrap_hypot(double x, double y) { return lambda_deploy_hypot_2_2_5(x, y); }
__attribute__((visibility("hidden"))) float __wrap_hypotf(float x, float y) { return lambda_deploy_hypotf_2_2_5(x, y); }
