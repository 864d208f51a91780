/* SPDX-License-Identifier: MIT */
/* svg.c: line and bar chart panels in one SVG document (see svg.h). All
 * text goes through xml_text(), so names with & < > " stay well-formed. */
#include "config.h"

#include "svg.h"

#include <string.h>

#define PANEL_W 460
#define PANEL_H 300
#define MARGIN_L 50
#define MARGIN_R 130
#define MARGIN_T 36
#define MARGIN_B 52
#define LEGEND_CHARS 18

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c",
				      "#ff7f0e", "#9467bd", "#8c564b",
				      "#e377c2", "#7f7f7f"};
#define NCOLORS (sizeof palette / sizeof *palette)

static void xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			putc(*s, out);
		}
	}
}

static void text_at(FILE *out, double x, double y, const char *anchor,
		    const char *size, const char *s)
{
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%s\">",
		x, y, anchor, size);
	xml_text(out, s);
	fputs("</text>\n", out);
}

/* The top of the y axis: 1, or a smaller round value above every value. */
static double y_max(const struct os_chart *c)
{
	double max = 0;
	static const double steps[] = {0.05, 0.1, 0.2, 0.25, 0.5, 1};

	for (size_t i = 0; i < c->nseries * c->ncat; i++)
		if (c->values[i] > max)
			max = c->values[i];
	for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
		if (max <= steps[i])
			return steps[i];
	return max;
}

/* A legend entry: the last part of a path, cut to fit the margin. */
static const char *legend_name(const char *series, char *buf, size_t size)
{
	const char *slash = strrchr(series, '/');
	size_t len;

	snprintf(buf, size, "%s", slash && slash[1] ? slash + 1 : series);
	len = strlen(buf);
	if (len > LEGEND_CHARS) /* cut on a UTF-8 boundary, mark the cut */
	{
		size_t cut = LEGEND_CHARS - 1;

		while (cut > 0 && ((unsigned char)buf[cut] & 0xc0) == 0x80)
			cut--;
		snprintf(buf + cut, size - cut, "\u2026");
	}
	return buf;
}

static void panel(FILE *out, const struct os_chart *c, double ox, double oy)
{
	char name[64];
	double w = PANEL_W - MARGIN_L - MARGIN_R, h = PANEL_H - MARGIN_T - MARGIN_B;
	double x0 = ox + MARGIN_L, y0 = oy + MARGIN_T + h, top = y_max(c);
	double band = w / (double)(c->ncat ? c->ncat : 1);
	char label[32];

	text_at(out, ox + PANEL_W / 2.0, oy + 20, "middle", "14", c->title);
	for (int t = 0; t <= 4; t++) { /* grid and y labels */
		double y = y0 - h * t / 4.0;

		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			     "stroke=\"#ddd\"/>\n", x0, y, x0 + w, y);
		snprintf(label, sizeof label, "%.2f", top * t / 4.0);
		text_at(out, x0 - 6, y + 4, "end", "11", label);
	}
	for (size_t k = 0; k < c->ncat; k++) { /* slanted when crowded */
		double x = x0 + band * ((double)k + 0.5);

		if (band < 90 && strlen(c->categories[k]) > 6) {
			fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
				     "font-size=\"10\" transform=\"rotate(-25 %.1f %.1f)\">",
				x + 4, y0 + 14, x + 4, y0 + 14);
			xml_text(out, c->categories[k]);
			fputs("</text>\n", out);
		} else {
			text_at(out, x, y0 + 18, "middle", "11", c->categories[k]);
		}
	}
	for (size_t s = 0; s < c->nseries; s++) {
		const char *color = palette[s % NCOLORS];
		const double *v = c->values + s * c->ncat;

		if (c->bars) {
			double bw = band * 0.8 / (double)c->nseries;

			for (size_t k = 0; k < c->ncat; k++)
				fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
					     "height=\"%.1f\" fill=\"%s\"/>\n",
					x0 + band * (double)k + band * 0.1 + bw * (double)s,
					y0 - h * v[k] / top, bw, h * v[k] / top, color);
		} else {
			fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" "
				     "stroke-width=\"2\" points=\"", color);
			for (size_t k = 0; k < c->ncat; k++)
				fprintf(out, "%s%.1f,%.1f", k ? " " : "",
					x0 + band * ((double)k + 0.5), y0 - h * v[k] / top);
			fputs("\"/>\n", out);
			for (size_t k = 0; k < c->ncat; k++)
				fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
					     "fill=\"%s\"/>\n",
					x0 + band * ((double)k + 0.5),
					y0 - h * v[k] / top, color);
		}
		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" "
			     "fill=\"%s\"/>\n",
			x0 + w + 10, oy + MARGIN_T + 16.0 * (double)s, color);
		text_at(out, x0 + w + 24, oy + MARGIN_T + 9 + 16.0 * (double)s,
			"start", "11", legend_name(c->series[s], name, sizeof name));
	}
	fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		     "stroke=\"#333\"/>\n", x0, y0, x0 + w, y0);
}

int os_svg_write(FILE *out, const char *title, const struct os_chart *charts,
		 size_t n)
{
	size_t rows = (n + 1) / 2;
	double width = 2 * PANEL_W, height = 40 + (double)rows * PANEL_H;

	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
		     "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		     "font-family=\"sans-serif\">\n"
		     "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		width, height, width, height);
	text_at(out, width / 2, 26, "middle", "16", title);
	for (size_t i = 0; i < n; i++)
		panel(out, &charts[i], (double)(i % 2) * PANEL_W,
		      40 + (double)(i / 2) * PANEL_H);
	fputs("</svg>\n", out);
	return ferror(out) ? -1 : 0;
}
