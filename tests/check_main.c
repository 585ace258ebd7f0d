/* check_main.c: runs every Check suite in one runner so `make check` ends with
 * one summary line. Suites that need a device use POCL unless CLRUN_DEVICE says
 * otherwise. */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
    SRunner *runner = srunner_create(spec_suite());
    srunner_add_suite(runner, data_suite());
    srunner_add_suite(runner, safetensors_suite());
    srunner_add_suite(runner, layers_suite());
    srunner_add_suite(runner, parity_suite());
    srunner_add_suite(runner, cifar_suite());
    srunner_add_suite(runner, images_suite());
    srunner_add_suite(runner, table_suite());
    srunner_add_suite(runner, playground_suite());
    srunner_add_suite(runner, optim_suite());
    srunner_add_suite(runner, losses_suite());
    srunner_add_suite(runner, plot_suite());
    srunner_add_suite(runner, npy_suite());
    srunner_add_suite(runner, stats_suite());
    srunner_add_suite(runner, neighbours_suite());
    srunner_add_suite(runner, similarity_suite());
    srunner_add_suite(runner, sweep_suite());
    srunner_add_suite(runner, faults_suite());
    srunner_add_suite(runner, factorized_suite());
    srunner_add_suite(runner, cli_suite());
    srunner_add_suite(runner, bad_suite());
    srunner_add_suite(runner, plan_suite());
    srunner_add_suite(runner, memplan_suite());
    srunner_add_suite(runner, features_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
