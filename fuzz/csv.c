/* csv.c: libFuzzer target for the CSV table reader (csv_read): any bytes
 * must load or fail with CLRUN_EINPUT (or CLRUN_ERUNTIME for memory), never
 * crash, leak or leave a table behind on failure; a table read has every row
 * as wide as its header and each row's line within the file's. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "io/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    CsvTable t;
    Err err;
    int rc = csv_read(&t, fuzz_file(0, data, size), &err);
    if (rc != CLRUN_OK && (t.names || t.cells || t.rows || t.cols || t.text))
        abort();
    if (rc == CLRUN_OK) {
        size_t lines = 1;
        for (size_t i = 0; i < size; i++)
            lines += data[i] == '\n';
        if (t.cols < 1 || t.header_line < 1 || (size_t)t.header_line > lines)
            abort();
        for (int c = 0; c < t.cols; c++)
            (void)(volatile size_t){strlen(t.names[c])};
        for (int r = 0; r < t.rows; r++) {
            if (t.lines[r] <= t.header_line || (size_t)t.lines[r] > lines)
                abort();
            for (int c = 0; c < t.cols; c++)
                (void)(volatile size_t){strlen(csv_cell(&t, r, c))};
        }
    }
    csv_free(&t);
    return 0;
}
