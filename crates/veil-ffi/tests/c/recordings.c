/* The recordings form of disclosure and export through the C ABI (issue 31): a camera's
 * segments, recorded by Veil's recorder in 5 s segments from the bundled clip, read for a
 * wall-clock window. A disclosure across both segment boundaries writes the copy and a
 * manifest naming every segment; a window without footage, a file-form field set, and a
 * segment altered by one byte are refused with their own statuses, naming the segment, for
 * the export too, and leave nothing.
 * argv: recordings dir, camera, from, to (RFC 3339), a segment file, empty scratch dir. */
#include <math.h>
#include <stdint.h>
#include <unistd.h>

#include "veil.h"
#include "check.h"

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
    char buf[2048];
    CHECK_STATUS(veil_error_message(err, buf, sizeof buf, NULL), VEIL_STATUS_OK);
    printf("expected error: %s\n", buf);
    CHECK_CONTAINS(buf, needle);
    veil_error_free(err);
    *errp = NULL;
}

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    CHECK(fseek(f, 0, SEEK_END) == 0);
    long n = ftell(f);
    CHECK(n > 0);
    CHECK(fseek(f, 0, SEEK_SET) == 0);
    char *text = malloc((size_t)n + 1);
    CHECK(text != NULL);
    CHECK(fread(text, 1, (size_t)n, f) == (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

int main(int argc, char **argv) {
    CHECK(argc == 7);
    const char *segment = argv[5];
    const char *name = strrchr(segment, '/') + 1;
    char out[4096], manifest[4096], log[4096], xout[4096];
    snprintf(out, sizeof out, "%s/police.mp4", argv[6]);
    snprintf(manifest, sizeof manifest, "%s/police.mp4.manifest.json", argv[6]);
    snprintf(log, sizeof log, "%s/audit.jsonl", argv[6]);
    snprintf(xout, sizeof xout, "%s/inzage.mp4", argv[6]);

    veil_recordings r = {argv[1], argv[2], argv[3], argv[4], NULL, NULL};
    veil_disclose_options o;
    veil_disclose_options_default(&o);
    o.output = out;
    o.audit_log = log;
    o.actor = "j.jansen";
    o.reason = "order PV-2026-31";
    o.basis = "police-order:PV-2026-31";

    veil_error *err = NULL;
    expect_error(veil_disclose_recordings_run(&o, NULL, &err), VEIL_STATUS_NULL_PARAMETER, &err, "NULL");
    o.input = "somewhere.mp4";
    expect_error(veil_disclose_recordings_run(&o, &r, &err), VEIL_STATUS_INVALID_ARGUMENT, &err, "input");
    o.input = NULL;
    veil_recordings early = r;
    early.from = "2000-01-01T00:00:00Z";
    early.to = "2000-01-01T00:01:00Z";
    expect_error(veil_disclose_recordings_run(&o, &early, &err), VEIL_STATUS_RECORDINGS_NO_FOOTAGE, &err,
                 "nearest recorded");
    CHECK(access(out, F_OK) != 0 && access(log, F_OK) != 0);

    CHECK_STATUS(veil_disclose_recordings_run(&o, &r, &err), VEIL_STATUS_OK);
    CHECK(err == NULL);
    char *m = read_all(manifest);
    CHECK_CONTAINS(m, "\"recordings\"");
    CHECK_CONTAINS(m, name);
    CHECK_CONTAINS(m, "\"stream-copy\"");
    free(m);
    CHECK(access(log, F_OK) == 0);

    /* One byte of a segment changed: refused by both, naming it, nothing written. */
    flip_byte(segment, 4000);
    char out2[4096];
    snprintf(out2, sizeof out2, "%s/police2.mp4", argv[6]);
    o.output = out2;
    expect_error(veil_disclose_recordings_run(&o, &r, &err), VEIL_STATUS_RECORDINGS_INTEGRITY, &err, name);
    veil_export_options x;
    veil_export_options_default(&x);
    x.output = xout;
    x.requester_kind = VEIL_REQUESTER_NONE;
    expect_error(veil_export_recordings_run(&x, &r, &err), VEIL_STATUS_RECORDINGS_INTEGRITY, &err, "altered");
    flip_byte(segment, 4000);
    CHECK(access(out2, F_OK) != 0 && access(xout, F_OK) != 0);
    printf("recordings: ok\n");
    return 0;
}
