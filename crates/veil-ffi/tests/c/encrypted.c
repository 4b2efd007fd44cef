/* Encrypted footage through the C ABI: a clip encrypted with the standard `age` tool to a key
 * is refused without a key and with a wrong key (VEIL_STATUS_FOOTAGE_KEY, nothing written,
 * nothing logged), by veil_export_run and veil_disclose_run alike; with the key, a disclosure
 * of 3..6 s is delivered encrypted to the police's public key (the Rust harness decrypts it
 * with `age -d` and checks it against the manifest). argv: encrypted clip, empty scratch
 * directory, secret key, wrong secret key, the police's public key. */
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
    const char *input = argv[1], *key = argv[3], *wrong = argv[4], *police = argv[5];
    char out[4096], manifest[4096], log[4096], inzage[4096];
    snprintf(out, sizeof out, "%s/police.mp4", argv[2]);
    snprintf(manifest, sizeof manifest, "%s/police.mp4.manifest.json", argv[2]);
    snprintf(log, sizeof log, "%s/audit.jsonl", argv[2]);
    snprintf(inzage, sizeof inzage, "%s/inzage.mp4", argv[2]);

    /* Exports: no key, a wrong key, an encrypt_to count without its array. */
    veil_export_options e;
    veil_export_options_default(&e);
    CHECK(e.key == NULL && e.encrypt_to == NULL && e.encrypt_to_len == 0);
    e.input = input;
    e.output = inzage;
    e.requester_kind = VEIL_REQUESTER_NONE;
    veil_error *err = NULL;
    expect_error(veil_export_run(&e, &err), VEIL_STATUS_FOOTAGE_KEY, &err, "--key");
    e.key = wrong;
    err = NULL;
    expect_error(veil_export_run(&e, &err), VEIL_STATUS_FOOTAGE_KEY, &err, "not encrypted to this key");
    e.key = key;
    e.encrypt_to_len = 1;
    err = NULL;
    expect_error(veil_export_run(&e, &err), VEIL_STATUS_NULL_PARAMETER, &err, "encrypt_to");
    CHECK(file_size(inzage) < 0);

    /* Disclosures: refused without the right key, nothing written or logged. */
    veil_disclose_options o;
    veil_disclose_options_default(&o);
    CHECK(o.key == NULL && o.encrypt_to == NULL && o.encrypt_to_len == 0);
    o.input = input;
    o.output = out;
    o.audit_log = log;
    o.actor = "j.jansen";
    o.reason = "order for the break-in of 1 March";
    o.basis = "police-order:PV-2026-0142";
    o.recording_start = "2026-03-01T09:00:00Z";
    o.camera = "cam-entrance";
    o.from_s = 3.0;
    o.to_s = 6.0;
    const char *recipients[1] = {police};
    o.encrypt_to = recipients;
    o.encrypt_to_len = 1;
    err = NULL;
    expect_error(veil_disclose_run(&o, &err), VEIL_STATUS_FOOTAGE_KEY, &err, "--key");
    o.key = wrong;
    err = NULL;
    expect_error(veil_disclose_run(&o, &err), VEIL_STATUS_FOOTAGE_KEY, &err, "not encrypted to this key");
    CHECK(file_size(out) < 0 && file_size(manifest) < 0 && file_size(log) < 0);

    /* With the key: decrypted in memory, delivered encrypted, logged. */
    o.key = key;
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
    FILE *f = fopen(out, "rb");
    CHECK(f != NULL);
    char head[22];
    CHECK(fread(head, 1, sizeof head, f) == sizeof head);
    fclose(f);
    CHECK(memcmp(head, "age-encryption.org/v1\n", sizeof head) == 0);
    printf("encrypted: ok\n");
    return 0;
}
