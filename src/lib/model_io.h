/* SPDX-License-Identifier: MIT */
/* model_io.h: a model in a file (the container of tensorfile.h): its
 * configuration and the catalog fingerprint as settings, its parameters as
 * named tensors; a checkpoint adds the AdamW moments and the trainer's own
 * settings, so that training resumes exactly where it stopped. */
#ifndef OS_MODEL_IO_H
#define OS_MODEL_IO_H

#include "error.h"
#include "model.h"
#include "tensorfile.h"

/* Writes the model (and, when `with_optimizer`, its AdamW moments) whole
 * or not at all; `extra` holds nextra more key/value pairs (2 * nextra
 * strings). Returns 0, or -1 with err. */
int os_model_save(const struct os_model *m, const char *path,
		  int with_optimizer, const char *const *extra, size_t nextra,
		  struct os_error *err);

/* Reads a model file into `m` (and the moments, when `with_optimizer` and
 * the file has them). `settings`, when not NULL, receives the file's
 * settings (release it); else they are dropped. A truncated, corrupted or
 * foreign file is refused with err (status 1). */
int os_model_load(struct os_model *m, const char *path, int with_optimizer,
		  struct os_tensorfile *settings, struct os_error *err);

/* Uses a model file in place, for search: the file is mapped read-only and
 * the tensors point into it, so the weights are read from the page cache
 * and shared by every process using the file. The model cannot be
 * trained (params is NULL). Refuses what os_model_load() refuses. */
int os_model_map(struct os_model *m, const char *path, struct os_error *err);

#endif
