/* Capture-time masking through the C ABI: a textured I420 frame and an RGB24 frame, both
 * with padded strides, masked in place. Inside the zone every pixel must be black; outside
 * it and in the stride padding nothing may change. */
#include <stdint.h>

#include "veil.h"
#include "check.h"

#define W 64
#define H 48
#define PAD_BYTE 0xAB

/* Zone: x in [0.25, 0.5], y in [0.25, 0.75] of the frame, i.e. luma x 16..32, y 12..36. */
static const char *ZONES =
    "[camera]\n"
    "id = \"cam-entrance\"\n"
    "purposes = [\"safety\"]\n"
    "responsible = \"Facility management\"\n"
    "\n"
    "[[zones]]\n"
    "kind = \"dwelling-door\"\n"
    "label = \"Front door no. 12\"\n"
    "polygon = [[0.25, 0.25], [0.5, 0.25], [0.5, 0.75], [0.25, 0.75]]\n";

/* A deterministic textured scene: gradients plus noise in 20..235, never black. */
static uint32_t rng = 12345u;
static uint8_t texture(uint32_t x, uint32_t y, uint32_t channel) {
    rng = rng * 1103515245u + 12345u;
    uint32_t v = (x * 3u + y * 2u + channel * 40u + ((rng >> 16) & 31u)) % 216u;
    return (uint8_t)(20u + v);
}

/* Whether (x, y) of a plane of size pw x ph is well inside / well outside the zone.
 * The margin keeps the test independent of how the zone edge is rasterised. */
static int inside(uint32_t x, uint32_t y, uint32_t pw, uint32_t ph, uint32_t margin) {
    return x >= pw / 4 + margin && x + margin < pw / 2 && y >= ph / 4 + margin && y + margin < ph * 3 / 4;
}
static int outside(uint32_t x, uint32_t y, uint32_t pw, uint32_t ph, uint32_t margin) {
    return x + margin < pw / 4 || x >= pw / 2 + margin || y + margin < ph / 4 || y >= ph * 3 / 4 + margin;
}

static void test_i420(void) {
    const uint32_t cw = W / 2, ch = H / 2;
    const size_t stride[3] = {W + 16, cw + 7, cw + 9}; /* padded, odd chroma strides */
    const uint32_t pw[3] = {W, cw, cw}, ph[3] = {H, ch, ch};
    const uint8_t black[3] = {0, 128, 128};
    uint8_t *planes[3], *orig[3];
    for (int p = 0; p < 3; p++) {
        size_t len = stride[p] * ph[p];
        planes[p] = malloc(len);
        orig[p] = malloc(len);
        CHECK(planes[p] != NULL && orig[p] != NULL);
        memset(planes[p], PAD_BYTE, len);
        for (uint32_t y = 0; y < ph[p]; y++)
            for (uint32_t x = 0; x < pw[p]; x++) planes[p][y * stride[p] + x] = texture(x, y, (uint32_t)p);
        memcpy(orig[p], planes[p], len);
    }

    veil_masker *m = NULL;
    CHECK_STATUS(veil_masker_new(ZONES, W, H, VEIL_PIXEL_FORMAT_I420, &m), VEIL_STATUS_OK);
    CHECK(m != NULL);
    veil_frame f = {VEIL_PIXEL_FORMAT_I420, W, H, {planes[0], planes[1], planes[2]}, {stride[0], stride[1], stride[2]}};
    /* Applying only reads the masker: it takes a const pointer (with -Werror, passing this
     * to a non-const parameter would not compile). */
    const veil_masker *shared = m;
    CHECK_STATUS(veil_masker_apply(shared, &f), VEIL_STATUS_OK);

    for (int p = 0; p < 3; p++) {
        size_t n_inside = 0, n_outside = 0;
        for (uint32_t y = 0; y < ph[p]; y++) {
            for (size_t x = 0; x < stride[p]; x++) {
                size_t i = y * stride[p] + x;
                if (x >= pw[p]) {
                    CHECK(planes[p][i] == PAD_BYTE); /* padding never written */
                } else if (inside((uint32_t)x, y, pw[p], ph[p], 1)) {
                    CHECK(planes[p][i] == black[p]);
                    n_inside++;
                } else if (outside((uint32_t)x, y, pw[p], ph[p], 1)) {
                    CHECK(planes[p][i] == orig[p][i]);
                    n_outside++;
                } else {
                    /* edge band: masked or untouched, nothing else */
                    CHECK(planes[p][i] == black[p] || planes[p][i] == orig[p][i]);
                }
            }
        }
        CHECK(n_inside > 0 && n_outside > 0);
    }

    /* Applying again is idempotent for a solid zone. */
    CHECK_STATUS(veil_masker_apply(m, &f), VEIL_STATUS_OK);
    veil_masker_free(m);
    for (int p = 0; p < 3; p++) {
        free(planes[p]);
        free(orig[p]);
    }
    printf("i420 ok\n");
}

static void test_rgb24(void) {
    const size_t stride = W * 3 + 13;
    const size_t len = stride * H;
    uint8_t *px = malloc(len), *orig = malloc(len);
    CHECK(px != NULL && orig != NULL);
    memset(px, PAD_BYTE, len);
    for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++)
            for (uint32_t c = 0; c < 3; c++) px[y * stride + x * 3 + c] = texture(x, y, c);
    memcpy(orig, px, len);

    veil_masker *m = NULL;
    veil_error *err = NULL;
    CHECK_STATUS(veil_masker_new_ex(ZONES, "entrance.toml", W, H, VEIL_PIXEL_FORMAT_RGB24, &m, &err), VEIL_STATUS_OK);
    CHECK(err == NULL); /* untouched on success */
    veil_frame f = {VEIL_PIXEL_FORMAT_RGB24, W, H, {px, NULL, NULL}, {stride, 0, 0}};
    CHECK_STATUS(veil_masker_apply_ex((const veil_masker *)m, &f, &err), VEIL_STATUS_OK);
    CHECK(err == NULL);

    size_t n_inside = 0;
    for (uint32_t y = 0; y < H; y++) {
        for (size_t b = 0; b < stride; b++) {
            size_t i = y * stride + b;
            uint32_t x = (uint32_t)(b / 3);
            if (b >= (size_t)W * 3) {
                CHECK(px[i] == PAD_BYTE);
            } else if (inside(x, y, W, H, 1)) {
                CHECK(px[i] == 0);
                n_inside++;
            } else if (outside(x, y, W, H, 1)) {
                CHECK(px[i] == orig[i]);
            } else {
                CHECK(px[i] == 0 || px[i] == orig[i]);
            }
        }
    }
    /* 14 x 22 pixels well inside, 3 bytes each */
    CHECK(n_inside == 14u * 22u * 3u);

    /* The last-error slot is empty after successes. */
    char buf[64];
    size_t n = 99;
    CHECK_STATUS(veil_masker_last_error(m, buf, sizeof buf, &n), VEIL_STATUS_OK);
    CHECK(n == 0 && buf[0] == '\0');

    veil_masker_free(m);
    free(px);
    free(orig);
    printf("rgb24 ok\n");
}

/* Every format: planes with padded strides; inside the zone every byte is the format's
 * black, outside and in the padding nothing changes. */
static void test_all_formats(void) {
    struct plane_desc {
        uint32_t n_planes;
        uint32_t w[3], h[3], bpp[3];
        uint8_t black[3][4];
    };
    const struct plane_desc descs[6] = {
        [VEIL_PIXEL_FORMAT_I420] = {3, {W, W / 2, W / 2}, {H, H / 2, H / 2}, {1, 1, 1}, {{0}, {128}, {128}}},
        [VEIL_PIXEL_FORMAT_NV12] = {2, {W, W / 2, 0}, {H, H / 2, 0}, {1, 2, 0}, {{0}, {128, 128}, {0}}},
        [VEIL_PIXEL_FORMAT_RGB24] = {1, {W, 0, 0}, {H, 0, 0}, {3, 0, 0}, {{0, 0, 0}, {0}, {0}}},
        [VEIL_PIXEL_FORMAT_BGR24] = {1, {W, 0, 0}, {H, 0, 0}, {3, 0, 0}, {{0, 0, 0}, {0}, {0}}},
        [VEIL_PIXEL_FORMAT_RGBA] = {1, {W, 0, 0}, {H, 0, 0}, {4, 0, 0}, {{0, 0, 0, 255}, {0}, {0}}},
        [VEIL_PIXEL_FORMAT_GRAY8] = {1, {W, 0, 0}, {H, 0, 0}, {1, 0, 0}, {{0}, {0}, {0}}},
    };
    for (uint32_t fmt = 0; fmt < 6; fmt++) {
        const struct plane_desc *d = &descs[fmt];
        uint8_t *planes[3] = {NULL, NULL, NULL}, *orig[3] = {NULL, NULL, NULL};
        size_t stride[3] = {0, 0, 0};
        for (uint32_t p = 0; p < d->n_planes; p++) {
            stride[p] = (size_t)d->w[p] * d->bpp[p] + 5 + p; /* odd padding */
            size_t len = stride[p] * d->h[p];
            planes[p] = malloc(len);
            orig[p] = malloc(len);
            CHECK(planes[p] != NULL && orig[p] != NULL);
            memset(planes[p], PAD_BYTE, len);
            for (uint32_t y = 0; y < d->h[p]; y++)
                for (uint32_t b = 0; b < d->w[p] * d->bpp[p]; b++)
                    planes[p][y * stride[p] + b] = texture(b / d->bpp[p], y, b % d->bpp[p]);
            memcpy(orig[p], planes[p], len);
        }
        veil_masker *m = NULL;
        CHECK_STATUS(veil_masker_new(ZONES, W, H, fmt, &m), VEIL_STATUS_OK);
        veil_frame f = {fmt, W, H, {planes[0], planes[1], planes[2]}, {stride[0], stride[1], stride[2]}};
        CHECK_STATUS(veil_masker_apply(m, &f), VEIL_STATUS_OK);
        for (uint32_t p = 0; p < d->n_planes; p++) {
            size_t n_inside = 0;
            for (uint32_t y = 0; y < d->h[p]; y++) {
                for (size_t b = 0; b < stride[p]; b++) {
                    size_t i = y * stride[p] + b;
                    uint32_t x = (uint32_t)(b / d->bpp[p]);
                    uint8_t black = d->black[p][b % d->bpp[p]];
                    if (b >= (size_t)d->w[p] * d->bpp[p]) {
                        CHECK(planes[p][i] == PAD_BYTE);
                    } else if (inside(x, y, d->w[p], d->h[p], 1)) {
                        CHECK(planes[p][i] == black);
                        n_inside++;
                    } else if (outside(x, y, d->w[p], d->h[p], 1)) {
                        CHECK(planes[p][i] == orig[p][i]);
                    } else {
                        CHECK(planes[p][i] == black || planes[p][i] == orig[p][i]);
                    }
                }
            }
            CHECK(n_inside > 0);
            free(planes[p]);
            free(orig[p]);
        }
        veil_masker_free(m);
    }
    printf("all formats ok\n");
}

int main(void) {
    test_i420();
    test_rgb24();
    test_all_formats();
    return 0;
}
