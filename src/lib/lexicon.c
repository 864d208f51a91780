/* SPDX-License-Identifier: MIT */
/* lexicon.c: the built-in keywords of the closed word classes that no
 * catalog statistic finds reliably: colors and finishes, materials, styles,
 * functions and audiences. Brands and product types are mined from the
 * catalog (mine.c); specs are a pattern (dict.c). Users extend or replace
 * all of these with --keywords FILE. */
#include "config.h"

#include "keywords.h"

static const char *const colors[] = {
	"black", "white", "red", "blue", "green", "yellow", "orange", "purple",
	"pink", "brown", "gray", "grey", "beige", "tan", "ivory", "cream",
	"silver", "gold", "bronze", "copper", "chrome", "polished chrome",
	"brushed nickel", "satin nickel", "polished nickel", "oil rubbed bronze",
	"antique brass", "polished brass", "matte black", "stainless",
	"almond", "biscuit", "bisque", "espresso", "cherry", "walnut",
	"mahogany", "natural", "clear", "navy", "teal", "charcoal", "slate",
	"sand", "taupe", "burgundy", "aqua", "turquoise", "multi-color",
	"dark bronze", "venetian bronze", "champagne bronze", "honey oak",
	"golden oak", "red oak", "white oak", "light gray", "dark gray",
	"黑色", "白色", "红色", "蓝色", "绿色",
};

static const char *const materials[] = {
	"wood", "solid wood", "hardwood", "plywood", "mdf", "pine", "cedar",
	"oak", "maple", "bamboo", "teak", "steel", "stainless steel",
	"galvanized steel", "carbon steel", "iron", "cast iron",
	"wrought iron", "aluminum", "brass", "copper", "zinc", "titanium",
	"metal", "plastic", "pvc", "cpvc", "abs", "pex", "vinyl", "acrylic",
	"polycarbonate", "polypropylene", "polyethylene", "nylon", "rubber",
	"silicone", "fiberglass", "glass", "tempered glass", "ceramic",
	"porcelain", "stone", "granite", "marble", "quartz", "concrete",
	"cement", "brick", "slate", "travertine", "resin", "composite",
	"leather", "cotton", "polyester", "wool", "linen", "fabric", "canvas",
	"foam", "memory foam", "wicker", "rattan", "paper", "cork", "felt",
	"carbide", "diamond", "asphalt", "gypsum", "drywall", "laminate",
	"不锈钢", "塑料", "木", "玻璃", "陶瓷",
};

static const char *const styles[] = {
	"modern", "contemporary", "traditional", "transitional", "rustic",
	"farmhouse", "industrial", "vintage", "antique", "classic",
	"mid-century", "coastal", "craftsman", "mission", "victorian",
	"colonial", "shaker", "minimalist", "art deco", "bohemian", "tuscan",
	"cottage", "country", "retro", "scandinavian", "现代", "复古",
};

static const char *const functions[] = {
	"cordless", "corded", "wireless", "bluetooth", "smart", "wi-fi",
	"programmable", "rechargeable", "dimmable", "waterproof",
	"water resistant", "weatherproof", "weather resistant",
	"fire resistant", "fire retardant", "rust resistant", "non-slip",
	"slip resistant", "stain resistant", "scratch resistant",
	"self-propelled", "self-closing", "self-adhesive", "soft close",
	"motion sensor", "motion activated", "energy star", "led",
	"solar", "solar powered", "battery powered", "gas", "electric",
	"portable", "adjustable", "folding", "stackable", "outdoor", "indoor",
	"heavy duty", "insulated", "touchless", "frameless", "recessed",
	"wall mount", "ceiling mount", "freestanding", "built-in", "dual flush",
	"high efficiency", "low voc", "zero voc", "mildew resistant",
	"无线", "防水", "充电",
};

static const char *const audiences[] = {
	"men", "men's", "women", "women's", "kids", "kid's", "children",
	"children's", "baby", "toddler", "boys", "girls", "adult", "teen",
	"unisex", "pet", "dog", "cat", "senior", "professional", "commercial",
	"residential", "男", "女", "儿童", "宠物",
};

static const struct {
	const char *type;
	const char *const *words;
	size_t n;
} lexicon[] = {
	{"color", colors, sizeof colors / sizeof *colors},
	{"material", materials, sizeof materials / sizeof *materials},
	{"style", styles, sizeof styles / sizeof *styles},
	{"function", functions, sizeof functions / sizeof *functions},
	{"audience", audiences, sizeof audiences / sizeof *audiences},
};

int os_dict_add_lexicon(struct os_dict *d, struct os_error *err)
{
	for (size_t i = 0; i < sizeof lexicon / sizeof *lexicon; i++)
		for (size_t k = 0; k < lexicon[i].n; k++)
			if (os_dict_add(d, lexicon[i].type, lexicon[i].words[k],
					"lexicon", 0, err) < 0)
				return -1;
	return 0;
}
