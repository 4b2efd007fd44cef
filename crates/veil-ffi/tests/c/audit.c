/* The audit log through the C ABI: append entries given as JSON (rules enforced, nothing
 * written on refusal), verify the chain, detect an edited entry, refuse to append to a log
 * with a torn last line. argv[1] is an empty scratch directory. */
#include <stdint.h>

#include "veil.h"
#include "check.h"

static const char *CAMERA =
    "[camera]\n"
    "id = \"cam-entrance\"\n"
    "purposes = [\"safety\"]\n"
    "responsible = \"Facility management\"\n";

static const char *VIEW =
    "{\"actor\": \"j.jansen\", \"action\": \"view\", \"reason\": \"check the break-in\","
    " \"camera\": \"cam-entrance\","
    " \"window\": {\"from\": \"2026-03-01T09:00:00Z\", \"to\": \"2026-03-01T09:10:00Z\"},"
    " \"purpose\": \"safety\"}";

static const char *VIEW_WRONG_PURPOSE =
    "{\"actor\": \"j.jansen\", \"action\": \"view\", \"reason\": \"curiosity\","
    " \"camera\": \"cam-entrance\", \"purpose\": \"marketing\"}";

static const char *DISCLOSE_NO_BASIS =
    "{\"actor\": \"j.jansen\", \"action\": \"disclose\", \"reason\": \"police asked by phone\","
    " \"camera\": \"cam-entrance\", \"recipient\": \"police\","
    " \"window\": {\"from\": \"2026-03-01T09:00:00Z\", \"to\": \"2026-03-01T09:10:00Z\"}}";

static const char *DISCLOSE =
    "{\"actor\": \"j.jansen\", \"action\": \"disclose\", \"reason\": \"order for the break-in\","
    " \"camera\": \"cam-entrance\", \"recipient\": \"police\","
    " \"window\": {\"from\": \"2026-03-01T09:00:00Z\", \"to\": \"2026-03-01T09:10:00Z\"},"
    " \"basis\": {\"kind\": \"police-order\", \"reference\": \"PV-2026-0142\"}}";

static const char *OTHER_CAMERA =
    "{\"actor\": \"j.jansen\", \"action\": \"view\", \"reason\": \"check\","
    " \"camera\": \"cam-yard\", \"purpose\": \"safety\"}";

static const char *UNKNOWN_MEMBER =
    "{\"actor\": \"j.jansen\", \"action\": \"view\", \"reason\": \"check\", \"colour\": \"red\"}";

static long file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return -1;
    CHECK(fseek(f, 0, SEEK_END) == 0);
    long n = ftell(f);
    fclose(f);
    return n;
}

static void expect_failure(const char *log, const char *json, const char *camera, veil_status want,
                           const char *needle) {
    veil_error *err = NULL;
    uint64_t seq = 777;
    CHECK_STATUS(veil_audit_append(log, json, camera, &seq, &err), want);
    CHECK(seq == 777); /* outputs untouched on failure */
    CHECK(err != NULL);
    char buf[512];
    CHECK_STATUS(veil_error_message(err, buf, sizeof buf, NULL), VEIL_STATUS_OK);
    CHECK_CONTAINS(buf, needle);
    veil_error_free(err);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char log[1024], missing[1024], torn[1024];
    snprintf(log, sizeof log, "%s/audit.jsonl", argv[1]);
    snprintf(missing, sizeof missing, "%s/missing.jsonl", argv[1]);
    snprintf(torn, sizeof torn, "%s/torn.jsonl", argv[1]);

    uint64_t seq = 0;
    CHECK_STATUS(veil_audit_append(log, VIEW, CAMERA, &seq, NULL), VEIL_STATUS_OK);
    CHECK(seq == 1);
    long size_after_first = file_size(log);
    CHECK(size_after_first > 0);

    expect_failure(log, VIEW_WRONG_PURPOSE, CAMERA, VEIL_STATUS_AUDIT_REFUSED, "marketing");
    expect_failure(log, DISCLOSE_NO_BASIS, CAMERA, VEIL_STATUS_AUDIT_REFUSED, "disclosure refused");
    expect_failure(log, OTHER_CAMERA, CAMERA, VEIL_STATUS_INVALID_ARGUMENT, "cam-yard");
    expect_failure(log, UNKNOWN_MEMBER, CAMERA, VEIL_STATUS_AUDIT_INVALID_ENTRY, "colour");
    expect_failure(log, "{not json", NULL, VEIL_STATUS_AUDIT_INVALID_ENTRY, "entry_json");
    expect_failure(NULL, VIEW, CAMERA, VEIL_STATUS_NULL_PARAMETER, "log_path is NULL");
    expect_failure(log, NULL, CAMERA, VEIL_STATUS_NULL_PARAMETER, "entry_json is NULL");
    CHECK(file_size(log) == size_after_first); /* nothing written by refused entries */

    CHECK_STATUS(veil_audit_append(log, DISCLOSE, CAMERA, &seq, NULL), VEIL_STATUS_OK);
    CHECK(seq == 2);

    veil_audit_summary s;
    memset(&s, 0, sizeof s);
    CHECK_STATUS(veil_audit_verify(log, &s, NULL), VEIL_STATUS_OK);
    CHECK(s.entries == 2 && s.head_seq == 2 && s.problem_line == 0);
    CHECK(strlen(s.head_hash) == 64);
    printf("head %llu %s\n", (unsigned long long)s.head_seq, s.head_hash);

    /* Edit the first entry's reason in place: verify must find it at line 1. */
    FILE *f = fopen(log, "r+b");
    CHECK(f != NULL);
    char content[8192];
    size_t n = fread(content, 1, sizeof content - 1, f);
    content[n] = '\0';
    char *at = strstr(content, "check the break-in");
    CHECK(at != NULL);
    CHECK(fseek(f, (long)(at - content), SEEK_SET) == 0);
    CHECK(fwrite("CHECK", 1, 5, f) == 5);
    fclose(f);

    veil_error *err = NULL;
    memset(&s, 0xEE, sizeof s);
    CHECK_STATUS(veil_audit_verify(log, &s, &err), VEIL_STATUS_AUDIT_TAMPERED);
    CHECK(s.entries == 0 && s.head_seq == 0 && s.head_hash[0] == '\0' && s.problem_line == 1);
    char buf[512];
    CHECK_STATUS(veil_error_message(err, buf, sizeof buf, NULL), VEIL_STATUS_OK);
    CHECK_CONTAINS(buf, "line 1");
    CHECK_CONTAINS(buf, "altered");
    printf("tampered: %s\n", buf);
    veil_error_free(err);
    err = NULL;

    /* A missing log cannot be checked: an I/O status, summary untouched. */
    memset(&s, 0xEE, sizeof s);
    CHECK_STATUS(veil_audit_verify(missing, &s, &err), VEIL_STATUS_AUDIT_IO);
    CHECK(s.entries == 0xEEEEEEEEEEEEEEEEull);
    veil_error_free(err);
    err = NULL;
    CHECK_STATUS(veil_audit_verify(NULL, NULL, NULL), VEIL_STATUS_NULL_PARAMETER);

    /* A torn last line (interrupted write): appending is refused. */
    CHECK_STATUS(veil_audit_append(torn, VIEW, CAMERA, NULL, NULL), VEIL_STATUS_OK);
    f = fopen(torn, "ab");
    CHECK(f != NULL);
    fputs("{\"version\":1,\"seq\":2,", f);
    fclose(f);
    expect_failure(torn, VIEW, CAMERA, VEIL_STATUS_AUDIT_LOG_DAMAGED, "incomplete line");
    CHECK_STATUS(veil_audit_verify(torn, NULL, NULL), VEIL_STATUS_AUDIT_TAMPERED);

    printf("audit ok\n");
    return 0;
}
