/* The inzage export through the C ABI on a real clip (fixtures/inzage/group_pan.mp4, first
 * second): everyone redacted (VEIL_REQUESTER_NONE, pixelate) with the camera's zone file
 * writes the video and the manifest; a requester point where nobody is fails with
 * VEIL_STATUS_EXPORT_NOBODY_AT and leaves no file; bad options are refused before any work;
 * an export onto an existing video or manifest is refused and leaves both untouched.
 * argv: input clip, empty scratch directory, zone file. The harness (tests/c_abi.rs) then
 * checks the content of what this wrote: the manifest's hashes and fields against the files,
 * and the decoded frames (zone black, bystanders redacted). */
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

/* The whole file, NUL-terminated (*n: its length). */
static char *slurp(const char *path, long *n) {
    *n = file_size(path);
    CHECK(*n >= 0);
    char *buf = calloc((size_t)*n + 1, 1);
    CHECK(buf != NULL);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    CHECK(fread(buf, 1, (size_t)*n, f) == (size_t)*n);
    fclose(f);
    return buf;
}

/* errp, not the error: the call in `got` writes it, and arguments are evaluated unsequenced. */
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
    CHECK(argc == 4);
    char out[4096], manifest[4096], nobody[4096];
    snprintf(out, sizeof out, "%s/inzage.mp4", argv[2]);
    snprintf(manifest, sizeof manifest, "%s/inzage.mp4.manifest.json", argv[2]);
    snprintf(nobody, sizeof nobody, "%s/nobody.mp4", argv[2]);

    veil_export_options o;
    veil_export_options_default(&o);
    CHECK(isnan(o.from_s) && isnan(o.to_s));
    CHECK(o.requester_kind == VEIL_REQUESTER_NONE && o.style == VEIL_STYLE_BLUR && !o.spotlight);
    CHECK(o.input == NULL && o.manifest == NULL && o.keep_tracks == NULL);
    CHECK(!o.overwrite); /* evidence is never replaced unless asked */
    CHECK(isnan(o.only_requester_margin_s)); /* the whole window unless asked */
    veil_export_options_default(NULL);

    /* Refused before any work. */
    veil_error *err = NULL;
    expect_error(veil_export_run(NULL, &err), VEIL_STATUS_NULL_PARAMETER, &err, "opts");
    err = NULL;
    expect_error(veil_export_run(&o, &err), VEIL_STATUS_NULL_PARAMETER, &err, "input");
    o.input = argv[1];
    o.output = out;
    o.from_s = 0.0;
    o.to_s = 1.0;
    o.requester_kind = 7;
    err = NULL;
    expect_error(veil_export_run(&o, &err), VEIL_STATUS_INVALID_ARGUMENT, &err, "requester_kind 7");
    o.requester_kind = VEIL_REQUESTER_NONE;
    o.style = 3;
    err = NULL;
    expect_error(veil_export_run(&o, &err), VEIL_STATUS_INVALID_ARGUMENT, &err, "style 3");
    o.style = VEIL_STYLE_PIXELATE;
    o.requester_kind = VEIL_REQUESTER_TRACKS;
    err = NULL;
    expect_error(veil_export_run(&o, &err), VEIL_STATUS_INVALID_ARGUMENT, &err, "tracks_path");
    o.requester_kind = VEIL_REQUESTER_NONE;
    o.output = argv[1]; /* never overwrite the recording */
    err = NULL;
    expect_error(veil_export_run(&o, &err), VEIL_STATUS_EXPORT_INVALID_OPTION, &err, "is the input");
    o.output = out;
    o.input = "/nonexistent/clip.mp4";
    err = NULL;
    expect_error(veil_export_run(&o, &err), VEIL_STATUS_EXPORT_IO, &err, "/nonexistent/clip.mp4");
    o.input = argv[1];
    CHECK(file_size(out) < 0 && file_size(manifest) < 0);

    /* Everyone redacted, and the camera's zones masked. */
    o.zones_toml_path = argv[3];
    err = NULL;
    veil_status s = veil_export_run(&o, &err);
    if (s != VEIL_STATUS_OK && err != NULL) {
        char buf[1024];
        veil_error_message(err, buf, sizeof buf, NULL);
        fprintf(stderr, "export failed: %s\n", buf);
    }
    CHECK_STATUS(s, VEIL_STATUS_OK);
    CHECK(err == NULL); /* written only on failure */
    long vsize = file_size(out), msize = file_size(manifest);
    printf("export: %ld bytes of video, %ld bytes of manifest\n", vsize, msize);
    CHECK(vsize > 1000);
    CHECK(msize > 100);
    /* The manifest records the requester choice and the style. */
    char *text = calloc((size_t)msize + 1, 1);
    CHECK(text != NULL);
    FILE *f = fopen(manifest, "rb");
    CHECK(f != NULL);
    CHECK(fread(text, 1, (size_t)msize, f) == (size_t)msize);
    fclose(f);
    CHECK_CONTAINS(text, "\"style\": \"pixelate\"");
    CHECK_CONTAINS(text, "\"zones\": {");
    free(text);

    /* The same export again: the video exists, so it is refused before any work, and the
     * video and manifest are untouched, byte for byte. */
    long vn = 0, mn = 0, vn2 = 0, mn2 = 0;
    char *video_before = slurp(out, &vn), *manifest_before = slurp(manifest, &mn);
    err = NULL;
    expect_error(veil_export_run(&o, &err), VEIL_STATUS_OUTPUT_EXISTS, &err, "already exists");
    /* only the manifest's name is taken: refused too, and no video appears */
    char again[4096];
    snprintf(again, sizeof again, "%s/again.mp4", argv[2]);
    o.output = again;
    o.manifest = manifest;
    err = NULL;
    expect_error(veil_export_run(&o, &err), VEIL_STATUS_OUTPUT_EXISTS, &err, "inzage.mp4.manifest.json");
    CHECK(file_size(again) < 0);
    o.output = out;
    o.manifest = NULL;
    char *video_after = slurp(out, &vn2), *manifest_after = slurp(manifest, &mn2);
    CHECK(vn == vn2 && memcmp(video_before, video_after, (size_t)vn) == 0);
    CHECK(mn == mn2 && memcmp(manifest_before, manifest_after, (size_t)mn) == 0);
    free(video_before);
    free(video_after);
    free(manifest_before);
    free(manifest_after);

    /* Keep the person at a point where nobody is (the black padding at the left edge of
     * frame 0): an error, never a silent full redaction, and no file. */
    o.output = nobody;
    o.zones_toml_path = NULL;
    o.requester_kind = VEIL_REQUESTER_AT;
    o.keep_at_time = 0.0;
    o.keep_at_x = 10.0f;
    o.keep_at_y = 700.0f;
    err = NULL;
    expect_error(veil_export_run(&o, &err), VEIL_STATUS_EXPORT_NOBODY_AT, &err, "nobody is tracked");
    CHECK(file_size(nobody) < 0);
    char nobody_manifest[4200];
    snprintf(nobody_manifest, sizeof nobody_manifest, "%s.manifest.json", nobody);
    CHECK(file_size(nobody_manifest) < 0);

    printf("export: ok\n");
    return 0;
}
