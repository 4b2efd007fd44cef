/* Disclosure to police and justice through the C ABI on a real clip (fixtures/vtest.mp4):
 * an inzage basis is refused and leaves nothing; a signed disclosure of 3..6 s writes the
 * copy, its manifest and signature; veil_verify accepts them, and fails with its own status
 * for a wrong key, a flipped byte in the copy, a flipped byte in the manifest and a missing
 * file. argv: input clip, empty scratch directory, secret key, public key, another public key. */
#include <math.h>
#include <stdint.h>

#include "veil.h"
#include "check.h"

static long file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return -1;
    CHECK(fseek(f, 0, SEEK_END) == 0);
    long n = ftell(f);
    fclose(f);
    return n;
}

static void flip_byte(const char *path, long at) {
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    CHECK(fseek(f, at, SEEK_SET) == 0);
    int c = fgetc(f);
    CHECK(c != EOF);
    CHECK(fseek(f, at, SEEK_SET) == 0);
    CHECK(fputc(c ^ 0x01, f) != EOF);
    CHECK(fclose(f) == 0);
}

static void expect_error(veil_status got, veil_status want, veil_error **errp, const char *needle) {
    veil_error *err = *errp;
    CHECK_STATUS(got, want);
    CHECK(err != NULL);
    char buf[1024];
    CHECK_STATUS(veil_error_message(err, buf, sizeof buf, NULL), VEIL_STATUS_OK);
    printf("expected error: %s\n", buf);
    CHECK_CONTAINS(buf, needle);
    veil_error_free(err);
}

int main(int argc, char **argv) {
    CHECK(argc == 6);
    const char *secret = argv[3], *pub = argv[4], *other = argv[5];
    char out[4096], manifest[4096], sig[4096], log[4096];
    snprintf(out, sizeof out, "%s/police.mp4", argv[2]);
    snprintf(manifest, sizeof manifest, "%s/police.mp4.manifest.json", argv[2]);
    snprintf(sig, sizeof sig, "%s/police.mp4.manifest.json.sig", argv[2]);
    snprintf(log, sizeof log, "%s/audit.jsonl", argv[2]);

    veil_disclose_options o;
    veil_disclose_options_default(&o);
    CHECK(isnan(o.from_s) && isnan(o.to_s) && !o.keep_audio);
    CHECK(o.input == NULL && o.sign_key == NULL && o.recipient == NULL);
    veil_disclose_options_default(NULL);

    veil_error *err = NULL;
    expect_error(veil_disclose_run(NULL, &err), VEIL_STATUS_NULL_PARAMETER, &err, "opts");
    o.input = argv[1];
    o.output = out;
    o.audit_log = log;
    o.actor = "j.jansen";
    o.reason = "order for the break-in of 1 March";
    o.recording_start = "2026-03-01T09:00:00Z";
    o.camera = "cam-entrance";
    o.from_s = 3.0;
    o.to_s = 6.0;
    o.sign_key = secret;
    err = NULL;
    expect_error(veil_disclose_run(&o, &err), VEIL_STATUS_NULL_PARAMETER, &err, "basis");

    /* An inzage copy is no disclosure: refused, nothing written, nothing logged. */
    o.basis = "inzage:AR-2026-12";
    err = NULL;
    expect_error(veil_disclose_run(&o, &err), VEIL_STATUS_DISCLOSE_REFUSED, &err, "export");
    CHECK(file_size(out) < 0 && file_size(manifest) < 0 && file_size(log) < 0);

    o.basis = "police-order:PV-2026-0142";
    err = NULL;
    veil_status s = veil_disclose_run(&o, &err);
    if (s != VEIL_STATUS_OK && err != NULL) {
        char buf[1024];
        veil_error_message(err, buf, sizeof buf, NULL);
        fprintf(stderr, "disclose failed: %s\n", buf);
    }
    CHECK_STATUS(s, VEIL_STATUS_OK);
    CHECK(err == NULL);
    CHECK(file_size(out) > 0 && file_size(manifest) > 0 && file_size(log) > 0);
    CHECK(file_size(sig) == 64);

    /* Never overwritten. */
    err = NULL;
    expect_error(veil_disclose_run(&o, &err), VEIL_STATUS_OUTPUT_EXISTS, &err, "already exists; not replaced");

    /* The recipient's checks. */
    CHECK_STATUS(veil_verify(out, manifest, pub, NULL), VEIL_STATUS_OK);
    CHECK_STATUS(veil_verify(out, manifest, NULL, NULL), VEIL_STATUS_OK);
    err = NULL;
    expect_error(veil_verify(out, manifest, other, &err), VEIL_STATUS_VERIFY_WRONG_KEY, &err, "wrong key");
    long mid = file_size(out) / 2;
    flip_byte(out, mid);
    err = NULL;
    expect_error(veil_verify(out, manifest, pub, &err), VEIL_STATUS_VERIFY_MISMATCH, &err,
                 "does not match the manifest");
    flip_byte(out, mid);
    flip_byte(manifest, 20);
    err = NULL;
    expect_error(veil_verify(out, manifest, pub, &err), VEIL_STATUS_VERIFY_BAD_SIGNATURE, &err,
                 "manifest altered");
    flip_byte(manifest, 20);
    CHECK_STATUS(veil_verify(out, manifest, pub, NULL), VEIL_STATUS_OK);
    err = NULL;
    expect_error(veil_verify("/nonexistent/police.mp4", manifest, pub, &err), VEIL_STATUS_VERIFY_MISSING,
                 &err, "missing output");
    err = NULL;
    expect_error(veil_verify(out, manifest, manifest, &err), VEIL_STATUS_KEY_INVALID, &err,
                 "not an Ed25519 public key");
    err = NULL;
    expect_error(veil_verify(NULL, manifest, pub, &err), VEIL_STATUS_NULL_PARAMETER, &err, "output");
    printf("disclose: ok\n");
    return 0;
}
