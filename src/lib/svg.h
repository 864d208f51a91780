/* SPDX-License-Identifier: MIT */
/* svg.h: charts as one standalone SVG document (no scripts, no external
 * resources), laid out in a grid of panels: line charts (a value per
 * category for each series, e.g. recall@K over K for each run) and grouped
 * bar charts (e.g. a metric per segment for each run). */
#ifndef OS_SVG_H
#define OS_SVG_H

#include <stddef.h>
#include <stdio.h>

struct os_chart {
	const char *title;
	int bars;                      /* grouped bars, else lines */
	size_t ncat;
	const char *const *categories; /* x-axis labels */
	size_t nseries;
	const char *const *series;     /* legend entries */
	const double *values;          /* values[s * ncat + c], in [0, 1] */
};

/* Writes the charts, two panels a row. Returns 0, or -1 on a write error. */
int os_svg_write(FILE *out, const char *title, const struct os_chart *charts,
		 size_t n);

#endif
