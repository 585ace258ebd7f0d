/* suites.h: the Check suites, one per module; check_main.c runs them all. */
#ifndef CLRUN_TEST_SUITES_H
#define CLRUN_TEST_SUITES_H

#include <check.h>

Suite *spec_suite(void);
Suite *data_suite(void);
Suite *safetensors_suite(void);
Suite *cifar_suite(void);
Suite *images_suite(void);
Suite *table_suite(void);
Suite *playground_suite(void);
Suite *optim_suite(void);
Suite *losses_suite(void);
Suite *plot_suite(void);
Suite *npy_suite(void);
Suite *stats_suite(void);
Suite *neighbours_suite(void);
Suite *similarity_suite(void);
Suite *sweep_suite(void);
Suite *faults_suite(void);
Suite *cli_suite(void);
Suite *parity_suite(void);
Suite *layers_suite(void);
Suite *factorized_suite(void);
Suite *bad_suite(void);
Suite *plan_suite(void);
Suite *memplan_suite(void);
Suite *features_suite(void);

#endif
