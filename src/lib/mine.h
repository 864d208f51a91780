/* SPDX-License-Identifier: MIT */
/* mine.h: mining typed keywords from the catalog's items.
 *
 * - brand: the item's "brand" field when it has one; otherwise the run of
 *   leading title words (up to three, without digits) shared by at least
 *   min_brand items, where the first word starts at least brand_lead of the
 *   titles that contain it and each further word keeps at least
 *   brand_extend of the items ("hampton bay", but not "delta vero").
 * - product: the head noun of the title, the last one or two words before
 *   the first " - ", " (", ", ", " with ", " for ", " in " or " w/ ", when
 *   at least min_product items share it ("convection microwave",
 *   "microwave").
 * - color: the words after the last " in " of a title, up to the next of
 *   those separators ("in oil rubbed bronze"), when at least min_color
 *   items share them.
 * - category: the item's "category" field (its last level after '>').
 *
 * Brand and category fields are counted in their canonical form, so
 * "Hampton Bay" and "HAMPTON BAY" are one brand.
 *
 * Mined keywords enter the dictionary with source "mined" and their item
 * counts; a candidate that the built-in lexicon already holds (a title
 * ending in "chrome" or "wood") is left to the lexicon's type. */
#ifndef OS_MINE_H
#define OS_MINE_H

#include "catalog.h"
#include "error.h"
#include "keywords.h"
#include "vocab.h"

struct os_mine_opts {
	long min_brand, min_product, min_color;
	double brand_lead, brand_extend;
};

void os_mine_opts_default(struct os_mine_opts *o);
int os_mine_keywords(struct os_dict *d, struct os_catalog *c,
		     const struct os_vocab *v, const struct os_mine_opts *o,
		     struct os_error *err);

#endif
