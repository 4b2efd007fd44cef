/* Hostile inputs through the C ABI: absurd and zero sizes, strides of 0 and SIZE_MAX,
 * frames claiming 4 billion pixels over a small buffer, garbage and deeply nested zone TOML,
 * message buffers of 0 and 1 bytes, non-UTF-8 paths (which are valid on Unix), hostile
 * export options and inputs (a damaged frame mid-stream, an absurd header). Each call must
 * return its documented status without crashing (the harness runs this under ASan + UBSan
 * and Valgrind), write nothing where the documentation says so, and leave no file behind.
 *
 * Arguments: a scratch directory, then fixtures/hostile/small.mp4, damaged-frame.mp4 and
 * absurd-size.y4m. Against a libveil without the export feature (compiled with
 * -DVEIL_NO_DEFAULT_FEATURES) the export cases are left out and the rest runs. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdint.h>

#include "veil.h"
#include "check.h"

static const char *ZONES =
    "[camera]\n"
    "id = \"cam\"\n"
    "purposes = [\"safety\"]\n"
    "responsible = \"Facility management\"\n"
    "[[zones]]\n"
    "kind = \"dwelling-door\"\n"
    "label = \"Door\"\n"
    "polygon = [[0.25, 0.25], [0.5, 0.25], [0.5, 0.75], [0.25, 0.75]]\n";

static const char *dir;

#if defined(VEIL_FEATURE_EXPORT)
/* Number of entries in the scratch directory other than the ones the test made itself
 * (names starting with "keep"). */
static int stray_files(void) {
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (strncmp(e->d_name, "keep", 4) == 0) continue;
        fprintf(stderr, "  left behind: %s\n", e->d_name);
        n++;
    }
    closedir(d);
    return n;
}
#endif

static void path_in(char *buf, size_t len, const char *name) {
    int n = snprintf(buf, len, "%s/%s", dir, name);
    CHECK(n > 0 && (size_t)n < len);
}

#if defined(VEIL_FEATURE_EXPORT)
static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(text, 1, strlen(text), f) == strlen(text));
    CHECK(fclose(f) == 0);
}

static void copy_file(const char *from, const char *to) {
    FILE *a = fopen(from, "rb");
    FILE *b = fopen(to, "wb");
    CHECK(a != NULL && b != NULL);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0) CHECK(fwrite(buf, 1, n, b) == n);
    CHECK(fclose(a) == 0 && fclose(b) == 0);
}
#endif

static void test_absurd_masker_sizes(void) {
    veil_masker *m = NULL;
    veil_error *err = NULL;
    CHECK_STATUS(veil_masker_new(ZONES, UINT32_MAX, UINT32_MAX, VEIL_PIXEL_FORMAT_I420, &m),
                 VEIL_STATUS_INVALID_SIZE);
    CHECK_STATUS(veil_masker_new(ZONES, 16386, 16, VEIL_PIXEL_FORMAT_GRAY8, &m), VEIL_STATUS_INVALID_SIZE);
    /* each side within the limit, the area twice MAX_PIXELS */
    CHECK_STATUS(veil_masker_new_ex(ZONES, NULL, 16384, 16384, VEIL_PIXEL_FORMAT_RGBA, &m, &err),
                 VEIL_STATUS_INVALID_SIZE);
    char buf[512];
    CHECK_STATUS(veil_error_message(err, buf, sizeof buf, NULL), VEIL_STATUS_OK);
    printf("  16384x16384: %s\n", buf);
    veil_error_free(err);
    CHECK_STATUS(veil_masker_new(ZONES, 0, 0, VEIL_PIXEL_FORMAT_GRAY8, &m), VEIL_STATUS_INVALID_SIZE);
    CHECK_STATUS(veil_masker_new(ZONES, 2, 0, VEIL_PIXEL_FORMAT_NV12, &m), VEIL_STATUS_INVALID_SIZE);
    CHECK(m == NULL);

    /* the smallest frames are fine, and masked */
    CHECK_STATUS(veil_masker_new(ZONES, 1, 1, VEIL_PIXEL_FORMAT_GRAY8, &m), VEIL_STATUS_OK);
    uint8_t px = 200;
    veil_frame one = {VEIL_PIXEL_FORMAT_GRAY8, 1, 1, {&px, NULL, NULL}, {1, 0, 0}};
    CHECK_STATUS(veil_masker_apply(m, &one), VEIL_STATUS_OK);
    veil_masker_free(m);
    m = NULL;
    printf("absurd masker sizes ok\n");
}

static void test_hostile_frames(void) {
    veil_masker *m = NULL;
    CHECK_STATUS(veil_masker_new(ZONES, 64, 48, VEIL_PIXEL_FORMAT_GRAY8, &m), VEIL_STATUS_OK);
    uint8_t px[64 * 48];
    memset(px, 77, sizeof px);

    /* strides of 0 and SIZE_MAX (the end of the last row overflows) */
    veil_frame f = {VEIL_PIXEL_FORMAT_GRAY8, 64, 48, {px, NULL, NULL}, {0, 0, 0}};
    CHECK_STATUS(veil_masker_apply(m, &f), VEIL_STATUS_INVALID_FRAME);
    f.stride[0] = SIZE_MAX;
    CHECK_STATUS(veil_masker_apply(m, &f), VEIL_STATUS_INVALID_FRAME);
    f.stride[0] = SIZE_MAX / 2;
    CHECK_STATUS(veil_masker_apply(m, &f), VEIL_STATUS_INVALID_FRAME);
    for (size_t i = 0; i < sizeof px; i++) CHECK(px[i] == 77);

    /* a frame claiming 4 billion pixels, or zero, over this small buffer: refused before
     * anything is written (a write would be far out of bounds, which ASan reports) */
    veil_frame huge = {VEIL_PIXEL_FORMAT_GRAY8, UINT32_MAX, UINT32_MAX, {px, NULL, NULL}, {UINT32_MAX, 0, 0}};
    veil_status s = veil_masker_apply(m, &huge);
    CHECK(s == VEIL_STATUS_INVALID_SIZE || s == VEIL_STATUS_INVALID_FRAME);
    veil_frame zero = {VEIL_PIXEL_FORMAT_GRAY8, 0, 48, {px, NULL, NULL}, {64, 0, 0}};
    s = veil_masker_apply(m, &zero);
    CHECK(s == VEIL_STATUS_INVALID_SIZE || s == VEIL_STATUS_INVALID_FRAME);
    for (size_t i = 0; i < sizeof px; i++) CHECK(px[i] == 77);

    /* a valid but smaller description of the same buffer: geometry mismatch, the described
     * part blanked, nothing outside it written */
    veil_frame small = {VEIL_PIXEL_FORMAT_GRAY8, 8, 8, {px, NULL, NULL}, {64, 0, 0}};
    CHECK_STATUS(veil_masker_apply(m, &small), VEIL_STATUS_GEOMETRY_MISMATCH);
    for (int r = 0; r < 48; r++)
        for (int c = 0; c < 64; c++) CHECK(px[r * 64 + c] == ((r < 8 && c < 8) ? 0 : 77));

    /* message buffers of 0 and 1 bytes: length reported, nothing (or only a NUL) written */
    char one[1] = {'x'};
    size_t n = 0;
    CHECK_STATUS(veil_masker_last_error(m, one, 0, &n), VEIL_STATUS_OK);
    CHECK(one[0] == 'x' && n > 0);
    CHECK_STATUS(veil_masker_last_error(m, one, 1, &n), VEIL_STATUS_OK);
    CHECK(one[0] == '\0' && n > 0);
    veil_masker_free(m);
    printf("hostile frames ok\n");
}

static void test_garbage_zone_toml(void) {
    veil_masker *m = NULL;
    veil_error *err = NULL;
    /* empty text, binary-looking text, a TOML document of 200,000 nested arrays (a parser
     * recursing on it would overflow the stack) and inline tables, numbers out of range */
    const size_t depth = 200000;
    char *deep = malloc(2 * depth + 16);
    CHECK(deep != NULL);
    strcpy(deep, "a = ");
    memset(deep + 4, '[', depth);
    memset(deep + 4 + depth, ']', depth);
    deep[4 + 2 * depth] = '\0';
    const char *cases[] = {
        "",
        "\x01\x02\x03\x7f",
        "[[[[[[[[",
        deep,
        "[camera]\nid = \"c\"\npurposes = [\"s\"]\nresponsible = \"r\"\n[[zones]]\nkind = \"custom\"\n"
        "label = \"x\"\npolygon = [[1e999, 0], [1, 0], [1, 1]]\n",
        "[camera]\nid = \"c\"\npurposes = [\"s\"]\nresponsible = \"r\"\n[[zones]]\nkind = \"custom\"\n"
        "label = \"x\"\npolygon = [[0, 0], [1, 0], [1, 1]]\nblock = 99999999999999999999999\n",
        "[camera]\nid = \"c\"\npurposes = [\"s\"]\nresponsible = \"r\"\n[[zones]]\nkind = \"custom\"\n"
        "label = \"x\"\npolygon = [[0, 0], [1, 0], [1, 1]]\nstyle = \"blur\"\nradius = -5\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        veil_status s = veil_masker_new_ex(cases[i], "garbage.toml", 64, 48, VEIL_PIXEL_FORMAT_I420, &m, &err);
        CHECK(s == VEIL_STATUS_CONFIG_PARSE || s == VEIL_STATUS_CONFIG_CAMERA || s == VEIL_STATUS_CONFIG_ZONE);
        CHECK(m == NULL && err != NULL);
        CHECK_STATUS(veil_error_status(err), s);
        size_t n = 0;
        CHECK_STATUS(veil_error_message(err, NULL, 0, &n), VEIL_STATUS_OK);
        char buf[160];
        CHECK_STATUS(veil_error_message(err, buf, sizeof buf, NULL), VEIL_STATUS_OK);
        CHECK(strlen(buf) < sizeof buf);
        printf("  case %zu: %s (%zu bytes): %.100s\n", i, veil_status_str(s), n, buf);
        veil_error_free(err);
        err = NULL;
    }
    free(deep);
    printf("garbage zone toml ok\n");
}

/* Paths are bytes on Unix: a file name that is not UTF-8 works for the audit log. */
static void test_non_utf8_paths(void) {
    char log[4096];
    path_in(log, sizeof log, "keep-\xff\xfe-audit.jsonl");
    uint64_t seq = 0;
    veil_error *err = NULL;
    const char *entry = "{\"actor\": \"op\", \"action\": \"view\", \"reason\": \"test\", \"camera\": \"cam\","
                        " \"window\": {\"from\": \"2026-03-01T09:00:00Z\", \"to\": \"2026-03-01T09:10:00Z\"},"
                        " \"purpose\": \"safety\"}";
    CHECK_STATUS(veil_audit_append(log, entry, ZONES, &seq, &err), VEIL_STATUS_OK);
    CHECK(seq == 1);
    veil_audit_summary sum;
    CHECK_STATUS(veil_audit_verify(log, &sum, &err), VEIL_STATUS_OK);
    CHECK(sum.entries == 1);
    char missing[4096];
    path_in(missing, sizeof missing, "no-such-\xc3\x28.jsonl");
    CHECK_STATUS(veil_audit_verify(missing, &sum, &err), VEIL_STATUS_AUDIT_IO);
    veil_error_free(err);
    err = NULL;
    /* an entry that is not UTF-8, not JSON, or nested 100,000 deep */
    CHECK_STATUS(veil_audit_append(log, "{\"actor\": \"\xff\"}", NULL, NULL, &err), VEIL_STATUS_INVALID_UTF8);
    veil_error_free(err);
    err = NULL;
    const size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    CHECK(deep != NULL);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    CHECK_STATUS(veil_audit_append(log, deep, NULL, NULL, &err), VEIL_STATUS_AUDIT_INVALID_ENTRY);
    free(deep);
    veil_error_free(err);
    err = NULL;
    CHECK_STATUS(veil_audit_verify(log, &sum, NULL), VEIL_STATUS_OK);
    CHECK(sum.entries == 1);
    /* the zone file's origin is only a name in messages: non-UTF-8 is refused as such */
    veil_masker *m = NULL;
    veil_status s = veil_masker_new_ex(ZONES, "\xff.toml", 64, 48, VEIL_PIXEL_FORMAT_I420, &m, NULL);
    CHECK(s == VEIL_STATUS_OK || s == VEIL_STATUS_INVALID_UTF8);
    veil_masker_free(m);
    printf("non-utf8 paths ok\n");
}

#if defined(VEIL_FEATURE_EXPORT)
static void export_defaults(veil_export_options *o, const char *input, const char *output) {
    veil_export_options_default(o);
    o->input = input;
    o->output = output;
}

/* Every hostile export must fail with its status and leave nothing in `dir`. */
static void expect_export(const veil_export_options *o, veil_status want, const char *what) {
    veil_error *err = NULL;
    veil_status got = veil_export_run(o, &err);
    char buf[512] = "";
    if (err != NULL) veil_error_message(err, buf, sizeof buf, NULL);
    printf("  %s: %s: %.200s\n", what, veil_status_str(got), buf);
    CHECK_STATUS(got, want);
    CHECK(err != NULL);
    CHECK_STATUS(veil_error_status(err), want);
    veil_error_free(err);
    CHECK(stray_files() == 0);
}

static void test_hostile_exports(const char *small, const char *damaged, const char *absurd) {
    char out[4096], tracks[4096], zones[4096], junk[4096], weird_out[4096], weird_in[4096];
    path_in(out, sizeof out, "export.mp4");
    path_in(tracks, sizeof tracks, "keep-tracks.json");
    path_in(zones, sizeof zones, "keep-zones.toml");
    path_in(junk, sizeof junk, "keep-junk.json");
    path_in(weird_out, sizeof weird_out, "export-\xff\xfe.mp4");
    path_in(weird_in, sizeof weird_in, "no-such-input-\xc3\x28.mp4");
    /* an analysis of small.mp4 in which nobody was found: no detector needed. It names the
       fixture's SHA-256 (a tracks file that names none is refused) and its `every` (one that
       does not record it is refused too); regenerate the hash with
       `sha256sum fixtures/hostile/small.mp4` if the fixture ever changes */
    write_file(tracks, "{\"version\":1,\"width\":64,\"height\":48,\"fps\":10.0,\"analyzed\":[0,9],\"every\":1,"
                       "\"source_sha256\":\"7e0533efbdb788a3b44698992b6704511c7409a5633b1e234847666f88c38b5b\",\"tracks\":[]}");
    write_file(zones, "[camera\n\x01");
    write_file(junk, "{\"version\":1,\"width\":64,\"height\":48,\"fps\":1e999,\"tracks\":[]}");

    veil_error *err = NULL;
    CHECK_STATUS(veil_export_run(NULL, &err), VEIL_STATUS_NULL_PARAMETER);
    veil_error_free(err);
    veil_export_options o;
    export_defaults(&o, NULL, out);
    expect_export(&o, VEIL_STATUS_NULL_PARAMETER, "input NULL");
    export_defaults(&o, small, NULL);
    expect_export(&o, VEIL_STATUS_NULL_PARAMETER, "output NULL");

    export_defaults(&o, small, out);
    o.tracks_path = tracks;
    o.requester_kind = 99;
    expect_export(&o, VEIL_STATUS_INVALID_ARGUMENT, "requester_kind 99");
    o.requester_kind = VEIL_REQUESTER_NONE;
    o.style = 0xFFFFFFFFu;
    expect_export(&o, VEIL_STATUS_INVALID_ARGUMENT, "style 2^32-1");
    o.style = VEIL_STYLE_SOLID;
    o.requester_kind = VEIL_REQUESTER_TRACKS;
    o.keep_tracks = NULL;
    o.keep_tracks_len = 3;
    expect_export(&o, VEIL_STATUS_NULL_PARAMETER, "keep_tracks NULL, length 3");
    o.requester_kind = VEIL_REQUESTER_AT;
    o.keep_at_time = 0.5;
    o.keep_at_x = NAN;
    o.keep_at_y = 10;
    expect_export(&o, VEIL_STATUS_EXPORT_INVALID_OPTION, "keep_at_x NaN");
    o.requester_kind = VEIL_REQUESTER_NONE;

    /* Bad windows: refused as invalid options, nothing written. */
    const double windows[][2] = {{-1, NAN}, {INFINITY, NAN}, {0.5, 0.5}, {0.8, 0.2}, {NAN, -INFINITY}};
    for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++) {
        o.from_s = windows[i][0];
        o.to_s = windows[i][1];
        expect_export(&o, VEIL_STATUS_EXPORT_INVALID_OPTION, "bad window");
    }
    o.from_s = 999;
    o.to_s = NAN;
    expect_export(&o, VEIL_STATUS_EXPORT_EMPTY_WINDOW, "window past the end");
    o.from_s = NAN;

    o.output = small;
    expect_export(&o, VEIL_STATUS_EXPORT_INVALID_OPTION, "output is the input");
    o.output = out;
    o.zones_toml_path = zones;
    expect_export(&o, VEIL_STATUS_CONFIG_PARSE, "garbage zone file");
    o.zones_toml_path = weird_in;
    expect_export(&o, VEIL_STATUS_CONFIG_IO, "missing zone file with a non-UTF-8 name");
    o.zones_toml_path = NULL;
    o.tracks_path = junk;
    expect_export(&o, VEIL_STATUS_EXPORT_TRACKS, "tracks with fps 1e999");
    o.tracks_path = tracks;

    o.input = weird_in;
    expect_export(&o, VEIL_STATUS_EXPORT_IO, "missing input with a non-UTF-8 name");
    /* other inputs than small.mp4: its tracks file would be refused (another input's
       SHA-256), so these run the one-shot analysis, which must fail on the video itself */
    o.tracks_path = NULL;
    o.input = absurd;
    expect_export(&o, VEIL_STATUS_EXPORT_VIDEO, "60000x60000 header");
    /* damaged-frame.mp4 has small.mp4's geometry: a tracks file naming its SHA-256 (see
       above) lets the export reach its decoder without loading a detector */
    char damaged_tracks[4096];
    path_in(damaged_tracks, sizeof damaged_tracks, "keep-damaged-tracks.json");
    write_file(damaged_tracks, "{\"version\":1,\"width\":64,\"height\":48,\"fps\":10.0,\"analyzed\":[0,9],\"every\":1,"
                               "\"source_sha256\":\"daa039ee6ec3645a27a13a8c3cd2ab34e9d7e1479a14496c02b04b5fc3046474\","
                               "\"tracks\":[]}");
    o.tracks_path = damaged_tracks;
    o.input = damaged;
    expect_export(&o, VEIL_STATUS_EXPORT_VIDEO, "undecodable frame mid-stream");
    o.tracks_path = tracks;

    /* an existing input whose name is not UTF-8: FFmpeg (through ffmpeg-next) takes UTF-8
     * paths only, so this is a typed error (it was a panic, VEIL_STATUS_PANIC, before) */
    char weird_copy[4096];
    path_in(weird_copy, sizeof weird_copy, "keep-in-\xff.mp4");
    copy_file(small, weird_copy);
    o.input = weird_copy;
    expect_export(&o, VEIL_STATUS_EXPORT_VIDEO, "existing input with a non-UTF-8 name");

    /* a non-UTF-8 output name works (paths are bytes on Unix; the temporary file FFmpeg
     * writes has a UTF-8 name, the rename does not care), and so does a plain one */
    o.input = small;
    expect_export(&(veil_export_options){0}, VEIL_STATUS_NULL_PARAMETER, "all-zero options");
    const char *outs[] = {weird_out, out};
    for (size_t i = 0; i < 2; i++) {
        o.output = outs[i];
        CHECK_STATUS(veil_export_run(&o, NULL), VEIL_STATUS_OK);
        FILE *f = fopen(o.output, "rb");
        CHECK(f != NULL);
        fclose(f);
        char manifest[4096];
        CHECK((size_t)snprintf(manifest, sizeof manifest, "%s.manifest.json", o.output) < sizeof manifest);
        CHECK(remove(o.output) == 0 && remove(manifest) == 0);
        CHECK(stray_files() == 0);
    }
    printf("hostile exports ok\n");
}
#endif

static void test_status_strings(void) {
    for (uint32_t s = 0; s < 1000; s++) {
        const char *t = veil_status_str(s);
        CHECK(t != NULL && strlen(t) > 0);
    }
    CHECK(strcmp(veil_status_str(UINT32_MAX), "unknown status") == 0);
    printf("status strings ok\n");
}

int main(int argc, char **argv) {
    CHECK(argc == 5);
    dir = argv[1];
    test_absurd_masker_sizes();
    test_hostile_frames();
    test_garbage_zone_toml();
    test_non_utf8_paths();
#if defined(VEIL_FEATURE_EXPORT)
    test_hostile_exports(argv[2], argv[3], argv[4]);
#else
    printf("hostile exports skipped: this libveil is built without the export feature\n");
#endif
    test_status_strings();
    return 0;
}
