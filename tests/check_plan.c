/* check_plan.c: the kernel plans (runtime/plan.c): which plan a device gets
 * and its numbers, the gpu plan training LeNet as the cpu plan does and the
 * same bits every run, and the gpu plan's launch shapes on the seeds'
 * models (every group 64 work-items or more). The kernels of both plans are
 * checked against double-precision references by the layers, losses and
 * optim suites, run under each plan by make check. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "suites.h"
#include "testutil.h"

static char out[1 << 16];

/* ---- choosing a plan ---- */

static const PlanFacts pocl = {CL_DEVICE_TYPE_CPU, 4096, 1 << 20, 2, 32u << 20, "pthread", 8};
static const PlanFacts pocl_avx512 = {CL_DEVICE_TYPE_CPU, 4096, 1 << 20, 2, 32u << 20,
                                      "pthread", 16};
static const PlanFacts h100 = {CL_DEVICE_TYPE_GPU, 1024, 48 << 10, 132, 50u << 20,
                                "NVIDIA H100 80GB HBM3", 1};
static const PlanFacts small_gpu = {CL_DEVICE_TYPE_GPU, 128, 32 << 10, 8, 0, "", 1};
static const PlanFacts max1550 = {CL_DEVICE_TYPE_GPU, 1024, 128 << 10, 128, 256u << 20,
                                  "Intel(R) Data Center GPU Max 1550", 1};
static const PlanFacts a770 = {CL_DEVICE_TYPE_GPU, 1024, 64 << 10, 512, 16u << 20,
                               "Intel(R) Arc(TM) A770 Graphics", 1};

START_TEST(plan_follows_the_device)
{
    Plan p;
    Err err = {""};
    ck_assert_int_eq(plan_choose(&p, &pocl, NULL, NULL, &err), CLRUN_OK);
    ck_assert_str_eq(plan_name(&p), "cpu");
    /* the cpu plan's numbers on this 2-core, 32 MB machine are the ones measured */
    ck_assert_int_eq(p.split_target, 64);
    ck_assert_int_eq((long)p.cache_bytes, 16 << 20);
    ck_assert_int_eq(plan_choose(&p, &h100, "", "", &err), CLRUN_OK);
    ck_assert_str_eq(plan_name(&p), "gpu");
    ck_assert_str_eq(plan_gemm_name(&p), "own");
    ck_assert_int_eq(p.split_target, 4 * 132);
    ck_assert_int_eq((long)p.cache_bytes, 25 << 20);
    ck_assert_int_eq(p.tile_group, 16);
    ck_assert_int_eq(p.tile, 64);
    ck_assert_msg(strstr(p.options, "-DPLAN_GPU=1") && strstr(p.options, "-DTG=16"), "%s",
                  p.options);
    /* a device with small groups gets smaller tiles, and a cache it does not report a default */
    ck_assert_int_eq(plan_choose(&p, &small_gpu, NULL, NULL, &err), CLRUN_OK);
    ck_assert_int_eq(p.tile_group, 8);
    ck_assert_int_eq((long)p.cache_bytes, 16 << 20);
    ck_assert_int_eq(plan_choose(&p, &pocl, "gpu", "clblast", &err), CLRUN_OK);
    ck_assert_str_eq(plan_name(&p), "gpu");
    ck_assert_str_eq(plan_gemm_name(&p), "clblast");
    ck_assert_int_eq(plan_choose(&p, &h100, "cpu", NULL, &err), CLRUN_OK);
    ck_assert_str_eq(plan_name(&p), "cpu");
}
END_TEST

/* plan.c's device table: the Data Center GPU Max gets 8 x 8 tiled groups
 * (in 16 x 16 ones conv_tiled spills there, tools/gpu-resources), another
 * Intel GPU with the same limits keeps 16 x 16. */
START_TEST(device_rows_shape_the_tiles)
{
    Plan p;
    Err err = {""};
    ck_assert_int_eq(plan_choose(&p, &max1550, NULL, NULL, &err), CLRUN_OK);
    ck_assert_str_eq(plan_name(&p), "gpu");
    ck_assert_int_eq(p.tile_group, 8);
    ck_assert_int_eq(p.tile, 32);
    ck_assert_msg(strstr(p.options, "-DTG=8 "), "%s", p.options);
    ck_assert_int_eq(plan_choose(&p, &a770, NULL, NULL, &err), CLRUN_OK);
    ck_assert_int_eq(p.tile_group, 16);
    ck_assert_msg(strstr(p.options, "-DTG=16 "), "%s", p.options);
}
END_TEST

/* The convolutions' register blocks follow the native float vector: 8 x 16
 * and 8 x 32 pixels x channels, 8-row weight-gradient passes where it is 16
 * floats (AVX-512); 6 x 16, no 32-channel block and 4-row passes where it is
 * 8 (AVX2), and on narrower devices; the build options carry them. */
START_TEST(conv_blocks_follow_the_vector_width)
{
    Plan p;
    Err err = {""};
    ck_assert_int_eq(plan_choose(&p, &pocl_avx512, NULL, NULL, &err), CLRUN_OK);
    ck_assert_int_eq(p.conv_pixels, 8);
    ck_assert_int_eq(p.conv_pixels_wide, 8);
    ck_assert_int_eq(p.wgrad_rows, 8);
    ck_assert_msg(strstr(p.options, "-DCI_TP=8 -DCI_TPW=8 -DCW_TM=8"), "%s", p.options);
    ck_assert_int_eq(plan_choose(&p, &pocl, NULL, NULL, &err), CLRUN_OK);
    ck_assert_int_eq(p.conv_pixels, 6);
    ck_assert_int_eq(p.conv_pixels_wide, 0);
    ck_assert_int_eq(p.wgrad_rows, 4);
    ck_assert_msg(strstr(p.options, "-DCI_TP=6 -DCI_TPW=6 -DCW_TM=4"), "%s", p.options);
    ck_assert_int_eq(plan_choose(&p, &h100, "cpu", NULL, &err), CLRUN_OK);
    ck_assert_int_eq(p.conv_pixels, 6);
}
END_TEST

START_TEST(bad_plans_are_refused)
{
    Plan p;
    Err err = {""};
    ck_assert_int_eq(plan_choose(&p, &pocl, "fast", NULL, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "'fast'") && strstr(err.msg, "cpu or gpu"), "%s", err.msg);
    ck_assert_int_eq(plan_choose(&p, &pocl, NULL, "cublas", &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "'cublas'"), "%s", err.msg);
    ck_assert_int_eq(plan_choose(&p, &pocl, "cpu", "clblast", &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "gpu kernel plan"), "%s", err.msg);
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml --kernels fast --out "
                           "build/test-tmp/plan-bad", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "unknown kernel plan 'fast'"), "%s", out);
    ck_assert(!test_file_exists("build/test-tmp/plan-bad/config.yaml"));
}
END_TEST

START_TEST(devices_show_the_plan)
{
    ck_assert_int_eq(clrun("devices", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "CPU") && strstr(out, "kernels cpu, cpu ") &&
                  strstr(out, " GFLOP/s, tiles none)"), "%s", out);
    ck_assert_int_eq(test_shell("CLRUN_KERNELS=gpu build/clrun devices", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "kernels gpu, cpu ") && strstr(out, "tiles 64x64 by 16x16"), "%s",
                  out);
}
END_TEST

/* The plan by measurement: on POCL the calibration chooses the cpu plan
 * (its products are 10-40x faster there), says so once with both plans'
 * GFLOP/s and keeps the choice in clrun's cache (with no program binary:
 * POCL caches builds itself), so the next run reads it; a damaged entry is
 * measured again; --kernels still overrides. */
START_TEST(calibration_chooses_the_cpu_plan_on_pocl)
{
    static const char *const run = "XDG_CACHE_HOME=build/test-tmp/calib-cache build/clrun run "
                                   "experiments/quickstart.yaml train.epochs=1 data.limit=64 "
                                   "--overwrite --out build/test-tmp/calib-run";
    double cpu, gpu;
    test_fresh_dir("calib-cache");
    ck_assert_msg(test_shell(run, out, sizeof out) == 0, "%s", out);
    const char *said = strstr(out, "Calibrated the kernel plans on ");
    ck_assert_msg(said && sscanf(strstr(said, "cpu plan "), "cpu plan %lf GFLOP/s, gpu plan %lf",
                                 &cpu, &gpu) == 2, "%s", out);
    ck_assert_msg(cpu > gpu && strstr(said, "the cpu plan from now on"), "%s", said);
    ck_assert_msg(strstr(out, "; cpu kernel plan, built in"), "%s", out);
    /* POCL caches its builds itself; exporting a binary would compile every kernel */
    ck_assert_int_ne(test_shell("ls build/test-tmp/calib-cache/clrun/*.bin", out, sizeof out), 0);
    ck_assert_msg(test_shell(run, out, sizeof out) == 0 && !strstr(out, "Calibrated"), "%s", out);
    ck_assert_int_eq(test_shell("for f in build/test-tmp/calib-cache/clrun/*.plan; do "
                                "printf 'junk' > \"$f\"; done", out, sizeof out), 0);
    ck_assert_msg(test_shell(run, out, sizeof out) == 0 && strstr(out, "Calibrated"), "%s", out);
    ck_assert_msg(test_shell("CLRUN_KERNELS=gpu XDG_CACHE_HOME=build/test-tmp/calib-cache "
                             "build/clrun devices", out, sizeof out) == 0 &&
                  strstr(out, "kernels gpu, cpu "), "%s", out);
}
END_TEST

/* A local size past the kernel's limit on the device is an error naming the
 * kernel, never a launch; groups the plan shapes over planes stay within it. */
START_TEST(local_sizes_are_checked_against_the_kernel)
{
    Device d;
    Err err = {""};
    cl_kernel k;
    test_device(&d);
    ck_assert_ok(dev_kernel(&d, "add_into", &k, &err), err);
    size_t most = dev_limits(&d, k)->max_group, global[1] = {2 * most}, local[1] = {2 * most};
    ck_assert_msg(most >= 1 && most <= d.max_work_group, "limit %zu", most);
    cl_mem m = NULL;
    int n = 1;
    int rc = DEV_LAUNCH(&d, k, 1, global, local, &err, KA(m), KA(m), KA(n));
    ck_assert_int_eq(rc, CLRUN_ERUNTIME);
    /* the hint names the other plan where it could help, never the current one */
    ck_assert_msg(strstr(err.msg, "add_into"), "%s", err.msg);
    const char *other = d.plan.gpu ? "--kernels cpu" : "--kernels";
    ck_assert_msg(d.plan.gpu ? strstr(err.msg, other) != NULL : strstr(err.msg, other) == NULL,
                  "%s plan: %s", plan_name(&d.plan), err.msg);
    dev_close(&d);
}
END_TEST

/* The limits the shapes are tested against: rusticl's 32, 8, Apple's CPU
 * device's 1 for kernels with barriers, and two that are not powers of two. */
static const size_t group_limits[] = {32, 8, 1, 48, 1000};

/* Every shape the plans give fits the kernel's limit, whatever it is: groups
 * over elements and planes, reductions, and the tiles (rebuilt smaller). No
 * device: the shapes are the plan's (runtime/plan.c). */
START_TEST(launch_shapes_fit_any_kernel_limit)
{
    size_t most = group_limits[_i];
    KernelLimits k = {most, 1, 0}, wide = {most, 64, 0};
    static const int sides[][2] = {{1, 1}, {28, 28}, {5, 3}, {200, 1}, {7, 300}, {64, 64}};
    for (int gpu = 0; gpu < 2; gpu++) {
        Plan p;
        Err err = {""};
        ck_assert_int_eq(plan_choose(&p, gpu ? &h100 : &pocl, NULL, NULL, &err), CLRUN_OK);
        for (int m = 0; m < 2; m++) {
            size_t group = plan_group(&p, m ? &wide : &k);
            ck_assert_msg(group >= 1 && group <= most && (group & (group - 1)) == 0,
                          "group %zu for limit %zu", group, most);
        }
        for (size_t n = 1; n <= 4096; n *= 4) {
            size_t r = plan_reduction_group(&p, &k, n, 256);
            ck_assert_msg(r >= 1 && r <= most && r <= 256 && (r & (r - 1)) == 0,
                          "reduction group %zu of %zu values, limit %zu", r, n, most);
        }
        size_t first[3];
        plan_planes(&p, &k, sides[0][0], sides[0][1], first);
        for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++) {
            size_t local[3];
            plan_planes(&p, &k, sides[i][0], sides[i][1], local);
            ck_assert_msg(local[0] * local[1] * local[2] <= most && local[0] && local[1] &&
                          local[2], "%s plan, %dx%d planes: %zux%zux%zu for limit %zu",
                          plan_name(&p), sides[i][0], sides[i][1], local[0], local[1], local[2],
                          most);
            /* the cpu plan: one shape whatever the planes, so POCL compiles
             * one work-group function a kernel */
            ck_assert_msg(gpu || !memcmp(local, first, sizeof first), "cpu plan, %dx%d planes: "
                          "%zux%zux%zu, 1x1 planes: %zux%zux%zu", sides[i][0], sides[i][1],
                          local[0], local[1], local[2], first[0], first[1], first[2]);
        }
        /* both plans fit the tiles: every build holds the tiled kernels */
        ck_assert_int_eq(plan_fit_tiles(&p, most), most < 256);
        size_t items = (size_t)p.tile_group * p.tile_group;
        ck_assert_msg(items <= most && p.tile == 4 * p.tile_group, "tiles of %zu work-items "
                      "for limit %zu", items, most);
        char tg[32];
        snprintf(tg, sizeof tg, "-DTG=%d ", p.tile_group);
        ck_assert_msg(strstr(p.options, tg), "%s", p.options);
        ck_assert_int_eq(plan_fit_tiles(&p, most), 0);
    }
}
END_TEST


/* ---- training under the gpu plan ---- */

/* LeNet (the quickstart) for 20 batches of 64 with the loss of every batch
 * logged, under plan and GEMM backend, into build/test-tmp/plan-<dir>. */
static void train_lenet(const char *plan, const char *gemm, const char *dir, const char *limit)
{
    char path[256], cmd[512];
    snprintf(path, sizeof path, "plan-%s", dir);
    test_fresh_dir(path);
    snprintf(path, sizeof path, "build/test-tmp/plan-%s", dir);
    snprintf(cmd, sizeof cmd, "CLRUN_GROUP_LIMIT=%s CLRUN_GEMM=%s build/clrun run "
             "experiments/quickstart.yaml train.epochs=1 data.limit=1280 train.log_every=1 "
             "--kernels %s --overwrite --out %s", limit ? limit : "", gemm, plan, path);
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s", out);
}

/* The loss column of steps.csv (epoch,batch,examples_seen,loss). */
static int step_losses(const char *dir, double *loss, int most)
{
    char path[256], line[256];
    snprintf(path, sizeof path, "build/test-tmp/plan-%s/steps.csv", dir);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "no %s", path);
    int n = 0;
    while (n < most && fgets(line, sizeof line, f))
        if (sscanf(line, "%*d,%*d,%*f,%lf", &loss[n]) == 1)
            n++;
    fclose(f);
    return n;
}

START_TEST(gpu_plan_trains_lenet_as_the_cpu_plan_does)
{
    double cpu[32], gpu[32];
    train_lenet("cpu", "own", "cpu", NULL);
    train_lenet("gpu", "own", "gpu", NULL);
    int n = step_losses("cpu", cpu, 32);
    ck_assert_int_eq(n, 20);
    ck_assert_int_eq(step_losses("gpu", gpu, 32), 20);
    for (int i = 0; i < n; i++)
        ck_assert_msg(fabs(gpu[i] - cpu[i]) <= 1e-4 * fabs(cpu[i]), "batch %d: loss %.9g under "
                      "the gpu plan, %.9g under the cpu plan", i + 1, gpu[i], cpu[i]);
    ck_assert_msg(cpu[19] < cpu[0] - 0.02, "LeNet did not learn: %g -> %g", cpu[0], cpu[19]);
    test_read_file("build/test-tmp/plan-gpu/config.yaml", out, sizeof out);
    ck_assert_msg(strstr(out, "kernels: \"gpu\"") && strstr(out, "gemm: \"own\""), "%s", out);
    test_read_file("build/test-tmp/plan-cpu/config.yaml", out, sizeof out);
    ck_assert_msg(strstr(out, "kernels: \"cpu\""), "%s", out);
}
END_TEST

/* LeNet trained for 20 batches with every kernel's limit lowered
 * (CLRUN_GROUP_LIMIT, as rusticl or Apple's CPU device report them) under
 * each plan gives the losses it gives with POCL's own limits; the tiles
 * shrank (config.yaml). */
START_TEST(small_group_limits_train_lenet_as_the_default_does)
{
    static const char *const limits[] = {"32", "8", "1"};
    double ref[32], small[32];
    char dir[64];
    for (int gpu = 0; gpu < 2; gpu++) {
        const char *plan = gpu ? "gpu" : "cpu";
        snprintf(dir, sizeof dir, "limit-ref-%s", plan);
        train_lenet(plan, "own", dir, NULL);
        int n = step_losses(dir, ref, 32);
        ck_assert_int_eq(n, 20);
        for (int i = 0; i < 3; i++) {
            snprintf(dir, sizeof dir, "limit-%s-%s", limits[i], plan);
            train_lenet(plan, "own", dir, limits[i]);
            ck_assert_int_eq(step_losses(dir, small, 32), n);
            for (int b = 0; b < n; b++)
                ck_assert_msg(fabs(small[b] - ref[b]) <= 1e-4 * fabs(ref[b]), "%s plan, limit "
                              "%s, batch %d: loss %.9g, %.9g with the device's limits", plan,
                              limits[i], b + 1, small[b], ref[b]);
            char path[128];
            snprintf(path, sizeof path, "build/test-tmp/plan-%s/config.yaml", dir);
            test_read_file(path, out, sizeof out);
            const char *tiles = !gpu ? "tiles: \"none\"" : i == 0 ? "tiles: \"16x16 by 4x4 "
                                : i == 1 ? "tiles: \"8x8 by 2x2 " : "tiles: \"4x4 by 1x1 ";
            ck_assert_msg(strstr(out, tiles), "no '%s' in %s", tiles, out);
        }
    }
    ck_assert_int_eq(test_shell("CLRUN_GROUP_LIMIT=0 build/clrun run experiments/quickstart.yaml "
                                "train.epochs=1 data.limit=64 --overwrite --out "
                                "build/test-tmp/plan-limit-bad", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "CLRUN_GROUP_LIMIT"), "%s", out);
}
END_TEST

START_TEST(gpu_plan_gives_the_same_bits_every_run)
{
    static char a[1 << 20], b[1 << 20];
    train_lenet("gpu", "own", "gpu-1", NULL);
    train_lenet("gpu", "own", "gpu-2", NULL);
    size_t na = test_read_file("build/test-tmp/plan-gpu-1/weights.safetensors", a, sizeof a);
    size_t nb = test_read_file("build/test-tmp/plan-gpu-2/weights.safetensors", b, sizeof b);
    ck_assert_msg(na > 1000 && na == nb && memcmp(a, b, na) == 0, "weights differ (%zu and %zu "
                  "bytes)", na, nb);
    double la[32], lb[32];
    int n = step_losses("gpu-1", la, 32);
    ck_assert_int_eq(step_losses("gpu-2", lb, 32), n);
    for (int i = 0; i < n; i++)
        ck_assert_msg(la[i] == lb[i], "batch %d: %.9g then %.9g", i + 1, la[i], lb[i]);
}
END_TEST

/* CLBlast as the gpu plan's GEMM (on POCL here, for correctness: it is
 * 5-50x slower than clrun's own products on CPUs) trains LeNet as the cpu
 * plan does, and its profile shows CLBlast's calls. */
START_TEST(clblast_trains_lenet_as_the_cpu_plan_does)
{
    double cpu[32], blas[32];
    train_lenet("cpu", "own", "cpu-ref", NULL);
    train_lenet("gpu", "clblast", "clblast", NULL);
    int n = step_losses("cpu-ref", cpu, 32);
    ck_assert_int_eq(step_losses("clblast", blas, 32), n);
    for (int i = 0; i < n; i++)
        ck_assert_msg(fabs(blas[i] - cpu[i]) <= 1e-4 * fabs(cpu[i]), "batch %d: loss %.9g "
                      "through CLBlast, %.9g under the cpu plan", i + 1, blas[i], cpu[i]);
    test_read_file("build/test-tmp/plan-clblast/config.yaml", out, sizeof out);
    ck_assert_msg(strstr(out, "gemm: \"clblast\""), "%s", out);
    ck_assert_int_eq(test_shell("CLRUN_GEMM=clblast build/clrun run experiments/quickstart.yaml "
                                "train.epochs=1 data.limit=128 --kernels gpu --profile --overwrite "
                                "--out "
                                "build/test-tmp/plan-clblast-profile", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "backward: CLBlastSgemmStridedBatched") &&
                  strstr(out, "CLBlastSgemmBatched"), "%s", out);
}
END_TEST

/* CLRUN_CLBLAST_TUNING: a tuner's result is applied before the first run
 * starts (a file that lacks one of Xgemm's parameters is refused by
 * CLBlastOverrideParameters, which shows they reach it); a file that is not
 * a tuner's result is refused, naming it; neither leaves a run behind. */
START_TEST(clblast_tuning_files_are_applied)
{
    static const char *const run = "CLRUN_GEMM=clblast build/clrun run experiments/quickstart.yaml "
                                   "train.epochs=1 data.limit=128 --kernels gpu --overwrite --out ";
    char cmd[1024], bad[256];
    snprintf(cmd, sizeof cmd, "CLRUN_CLBLAST_TUNING=tests/fixtures/clblast_xgemm_1_32.json %s"
             "build/test-tmp/plan-tuned", run);
    test_fresh_dir("plan-tuned");
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s", out);
    test_read_file("tests/fixtures/clblast_xgemm_1_32.json", out, sizeof out);
    char *kwg = strstr(out, " KWG=32");
    ck_assert_ptr_nonnull(kwg);
    memmove(kwg, kwg + strlen(" KWG=32"), strlen(kwg + strlen(" KWG=32")) + 1);
    snprintf(bad, sizeof bad, "%s", test_write_file("no-kwg.json", out));
    const char *files[2] = {bad, "README.md"}, *says[2] = {"CLBlastOverrideParameters(Xgemm)",
                                                           "not a CLBlast tuner result"};
    for (int i = 0; i < 2; i++) {
        test_fresh_dir("plan-untuned");
        snprintf(cmd, sizeof cmd, "CLRUN_CLBLAST_TUNING=%s %sbuild/test-tmp/plan-untuned",
                 files[i], run);
        ck_assert_int_eq(test_shell(cmd, out, sizeof out), 2);
        ck_assert_msg(strstr(out, files[i]) && strstr(out, says[i]), "%s", out);
        ck_assert(!test_file_exists("build/test-tmp/plan-untuned/config.yaml"));
    }
}
END_TEST

/* ---- launch shapes ---- */

/* The kernel names of d's program source built with options (and extra), as
 * ";name;name;" for strstr. */
static void kernel_names(Device *d, const char *extra, char *names, size_t size)
{
    Err err = {""};
    int rc;
    char *src = dev_program_source(&err, &rc), options[1024];
    ck_assert_ok(rc, err);
    snprintf(options, sizeof options, "%s %s", d->plan.options, extra);
    cl_int cle;
    const char *csrc = src;
    cl_program prog = clCreateProgramWithSource(d->ctx, 1, &csrc, NULL, &cle);
    ck_assert_int_eq(cle, CL_SUCCESS);
    ck_assert_int_eq(clBuildProgram(prog, 1, &d->id, options, NULL, NULL), CL_SUCCESS);
    names[0] = ';';
    ck_assert_int_eq(clGetProgramInfo(prog, CL_PROGRAM_KERNEL_NAMES, size - 2, names + 1, NULL),
                     CL_SUCCESS);
    for (char *c = names; *c; c++)
        *c = *c == ',' ? ';' : *c;
    strcat(names, ";");
    clReleaseProgram(prog);
    free(src);
}

/* list = the kernels only the cpu plan launches (a work-item a group, big
 * register blocks), as ";name;name;": those marked CPU_KERNEL (cl/prelude.cl),
 * which the gpu plan's program loses when that mark is made static, as
 * tools/gpu-resources builds it. The cpu plan's products are among them. */
static void cpu_kernels(char *list, size_t size)
{
    Device d;
    Err err = {""};
    test_device(&d);
    ck_assert_ok(dev_set_plan(&d, 1, 0, &err), err);
    static char all[16384], gpu[16384];
    kernel_names(&d, "", all, sizeof all);
    kernel_names(&d, "-DCPU_KERNEL=static", gpu, sizeof gpu);
    dev_close(&d);
    snprintf(list, size, ";");
    for (char *name = strtok(all, ";"); name; name = strtok(NULL, ";")) {
        char key[160];
        snprintf(key, sizeof key, ";%s;", name);
        if (!strstr(gpu, key))
            snprintf(list + strlen(list), size - strlen(list), "%s;", name);
    }
    ck_assert_msg(strstr(list, ";gemm_nn;") && strstr(list, ";conv_implicit;"), "%s", list);
}

static const struct {
    const char *experiment, *overrides;
} traced[] = {
    {"quickstart", "data.limit=640"},
    {"keras-cnn", "data.limit=640"},
    {"cs375-resnet18", "data.limit=64 train.batch_size=64"},
};

/* Every launch of a short training run of a seed model under the gpu plan
 * (--trace-launches: kernel, global and local size, layer and pass) has
 * work-groups of 64 work-items or more, unless the whole launch has fewer,
 * and none is a cpu-plan kernel. */
START_TEST(gpu_plan_launches_groups_of_64_or_more)
{
    char root[256], trace[256], cmd[2048], env[300] = "", cpu_only[4096];
    cpu_kernels(cpu_only, sizeof cpu_only);
    snprintf(trace, sizeof trace, "build/test-tmp/plan-trace-%d.txt", _i);
    remove(trace);
    if (strstr(traced[_i].experiment, "resnet")) {
        snprintf(root, sizeof root, "%s/build/test-tmp/plan-cifar", getenv("PWD"));
        test_synthetic_cifar(root);
        snprintf(env, sizeof env, "CLRUN_ROOT=%s ", root);
    }
    snprintf(cmd, sizeof cmd, "%sbuild/clrun run experiments/%s.yaml train.epochs=1 %s "
             "--kernels gpu --trace-launches %s --overwrite --out build/test-tmp/plan-trace-%d",
             env,
             traced[_i].experiment, traced[_i].overrides, trace, _i);
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s", out);
    FILE *f = fopen(trace, "r");
    ck_assert_msg(f != NULL, "no trace %s", trace);
    char line[512], kernel[64], tag[128];
    size_t g[3], l[3];
    int launches = 0, tiled = 0;
    while (fgets(line, sizeof line, f)) {
        ck_assert_msg(sscanf(line, "%63s %zux%zux%zu %zux%zux%zu %127[^\n]", kernel, &g[0], &g[1],
                             &g[2], &l[0], &l[1], &l[2], tag) == 8, "trace line '%s'", line);
        size_t items = g[0] * g[1] * g[2], group = l[0] * l[1] * l[2];
        ck_assert_msg(group >= 64 || items < 64, "%s: %s (%s) runs %zu work-items in groups of "
                      "%zu", traced[_i].experiment, kernel, tag, items, group);
        char key[160];
        snprintf(key, sizeof key, ";%s;", kernel);
        ck_assert_msg(!strstr(cpu_only, key), "%s: the gpu plan launched %s (%s)",
                      traced[_i].experiment, kernel, tag);
        tiled += strcmp(kernel, "gemm_tiled") == 0 || strcmp(kernel, "conv_tiled") == 0;
        launches++;
    }
    fclose(f);
    ck_assert_msg(launches > 100 && tiled > 10, "%s: %d launches, %d tiled", traced[_i].experiment,
                  launches, tiled);
}
END_TEST

Suite *plan_suite(void)
{
    Suite *s = suite_create("plan");
    TCase *choice = tcase_create("choice");
    tcase_add_test(choice, plan_follows_the_device);
    tcase_add_test(choice, device_rows_shape_the_tiles);
    tcase_add_test(choice, conv_blocks_follow_the_vector_width);
    tcase_add_test(choice, bad_plans_are_refused);
    tcase_add_test(choice, devices_show_the_plan);
    tcase_add_test(choice, calibration_chooses_the_cpu_plan_on_pocl);
    tcase_add_test(choice, local_sizes_are_checked_against_the_kernel);
    tcase_add_loop_test(choice, launch_shapes_fit_any_kernel_limit, 0,
                        (int)(sizeof group_limits / sizeof group_limits[0]));
    suite_add_tcase(s, choice);
    TCase *runs = tcase_create("runs");
    tcase_set_timeout(runs, 300);
    tcase_add_test(runs, gpu_plan_trains_lenet_as_the_cpu_plan_does);
    tcase_add_test(runs, gpu_plan_gives_the_same_bits_every_run);
    tcase_add_test(runs, small_group_limits_train_lenet_as_the_default_does);
    tcase_add_test(runs, clblast_trains_lenet_as_the_cpu_plan_does);
    tcase_add_test(runs, clblast_tuning_files_are_applied);
    tcase_add_loop_test(runs, gpu_plan_launches_groups_of_64_or_more, 0,
                        (int)(sizeof traced / sizeof traced[0]));
    suite_add_tcase(s, runs);
    return s;
}
