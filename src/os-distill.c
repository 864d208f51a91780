/* SPDX-License-Identifier: MIT */
/* os-distill: trains the generative model that turns a query into the SID
 * of the right item (see os-distill(1)): sft, self-distillation from a
 * teacher that reads the query's CoT keywords, and preference alignment
 * on behaviour feedback. Options, the plan, the training loop,
 * checkpoints and progress here; the examples in os-distill-data.c, a
 * step in os-distill-step.c, alignment in os-distill-align.c; the model
 * is in libonesearch (model.c, nn.c) and so are the distillation and
 * alignment terms (distill.c, align.c). */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/align.h"
#include "lib/blascpu.h"
#include "lib/dense_index.h"
#include "lib/lines.h"
#include "lib/matmul.h"
#include "lib/model_io.h"
#include "lib/parallel.h"
#include "lib/prefix.h"
#include "os-distill.h"

enum {
	OPT_STAGE = 256,
	OPT_INIT,
	OPT_KD_WEIGHT,
	OPT_TEMPERATURE,
	OPT_RDROP_WEIGHT,
	OPT_FGM_EPS,
	OPT_FOCAL,
	OPT_FOCAL_ALPHA,
	OPT_FOCAL_GAMMA,
	OPT_LAYERS,
	OPT_DIM,
	OPT_HEADS,
	OPT_FF,
	OPT_CONTEXT,
	OPT_BUCKETS,
	OPT_EPOCHS,
	OPT_STEPS,
	OPT_BATCH,
	OPT_LR,
	OPT_MIN_LR,
	OPT_WARMUP,
	OPT_WEIGHT_DECAY,
	OPT_DROPOUT,
	OPT_CLIP,
	OPT_ITEM_REPEAT,
	OPT_QUERY_REPEAT,
	OPT_PSEUDO_QUERIES,
	OPT_DENSE_LABELS,
	OPT_DENSE_TOP,
	OPT_DENSE_QUERIES,
	OPT_CONSTRAINED_LOSS,
	OPT_DENSE_QUERY_WEIGHT,
	OPT_MIN_GRADE,
	OPT_LOG,
	OPT_LOG_EVERY,
	OPT_CHECKPOINT,
	OPT_CHECKPOINT_EVERY,
	OPT_RESUME,
	OPT_VALID,
	OPT_VALID_EVERY,
	OPT_BEAM,
	OPT_GROUP,
	OPT_SAMPLE_TEMPERATURE,
	OPT_REWARD_RELEVANCE,
	OPT_REWARD_BEHAVIOUR,
	OPT_REWARD_OVERLAP,
	OPT_BETA,
	OPT_SFT_WEIGHT,
	OPT_GATE,
	OPT_UNSEEN,
	OPT_SHOWN,
	OPT_POSITION_WEIGHTS,
	OPT_USER_HISTORY,
	OPT_PREFIX_VECTORS,
	OPT_ITEM_VECTORS,
};

/* The words of --stage (in the order of enum stage) and of --unseen (by
 * unseen_mean), for the command line and for the model file's settings. */
static const char *const stage_names[] = {"sft", "distill", "align", NULL};
static const char *const unseen_names[] = {"zero", "mean", NULL};

static const struct option long_options[] = {
    {"catalog", required_argument, NULL, 'C'},
    {"output", required_argument, NULL, 'o'},
    {"stage", required_argument, NULL, OPT_STAGE},
    {"init", required_argument, NULL, OPT_INIT},
    {"kd-weight", required_argument, NULL, OPT_KD_WEIGHT},
    {"temperature", required_argument, NULL, OPT_TEMPERATURE},
    {"rdrop-weight", required_argument, NULL, OPT_RDROP_WEIGHT},
    {"fgm-eps", required_argument, NULL, OPT_FGM_EPS},
    {"focal", no_argument, NULL, OPT_FOCAL},
    {"focal-alpha", required_argument, NULL, OPT_FOCAL_ALPHA},
    {"focal-gamma", required_argument, NULL, OPT_FOCAL_GAMMA},
    {"layers", required_argument, NULL, OPT_LAYERS},
    {"dim", required_argument, NULL, OPT_DIM},
    {"heads", required_argument, NULL, OPT_HEADS},
    {"ff", required_argument, NULL, OPT_FF},
    {"context", required_argument, NULL, OPT_CONTEXT},
    {"buckets", required_argument, NULL, OPT_BUCKETS},
    {"epochs", required_argument, NULL, OPT_EPOCHS},
    {"steps", required_argument, NULL, OPT_STEPS},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"lr", required_argument, NULL, OPT_LR},
    {"min-lr", required_argument, NULL, OPT_MIN_LR},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"weight-decay", required_argument, NULL, OPT_WEIGHT_DECAY},
    {"dropout", required_argument, NULL, OPT_DROPOUT},
    {"clip", required_argument, NULL, OPT_CLIP},
    {"item-repeat", required_argument, NULL, OPT_ITEM_REPEAT},
    {"query-repeat", required_argument, NULL, OPT_QUERY_REPEAT},
    {"pseudo-queries", required_argument, NULL, OPT_PSEUDO_QUERIES},
    {"dense-labels", required_argument, NULL, OPT_DENSE_LABELS},
    {"dense-top", required_argument, NULL, OPT_DENSE_TOP},
    {"dense-queries", required_argument, NULL, OPT_DENSE_QUERIES},
    {"constrained-loss", no_argument, NULL, OPT_CONSTRAINED_LOSS},
    {"dense-query-weight", required_argument, NULL, OPT_DENSE_QUERY_WEIGHT},
    {"min-grade", required_argument, NULL, OPT_MIN_GRADE},
    {"log", required_argument, NULL, OPT_LOG},
    {"log-every", required_argument, NULL, OPT_LOG_EVERY},
    {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
    {"checkpoint-every", required_argument, NULL, OPT_CHECKPOINT_EVERY},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"valid", required_argument, NULL, OPT_VALID},
    {"valid-every", required_argument, NULL, OPT_VALID_EVERY},
    {"beam", required_argument, NULL, OPT_BEAM},
    {"group", required_argument, NULL, OPT_GROUP},
    {"sample-temperature", required_argument, NULL, OPT_SAMPLE_TEMPERATURE},
    {"reward-relevance", required_argument, NULL, OPT_REWARD_RELEVANCE},
    {"reward-behaviour", required_argument, NULL, OPT_REWARD_BEHAVIOUR},
    {"reward-overlap", required_argument, NULL, OPT_REWARD_OVERLAP},
    {"beta", required_argument, NULL, OPT_BETA},
    {"sft-weight", required_argument, NULL, OPT_SFT_WEIGHT},
    {"gate", required_argument, NULL, OPT_GATE},
    {"unseen", required_argument, NULL, OPT_UNSEEN},
    {"shown", required_argument, NULL, OPT_SHOWN},
    {"position-weights", required_argument, NULL, OPT_POSITION_WEIGHTS},
    {"user-history", required_argument, NULL, OPT_USER_HISTORY},
    {"prefix-vectors", no_argument, NULL, OPT_PREFIX_VECTORS},
    {"item-vectors", required_argument, NULL, OPT_ITEM_VECTORS},
    OS_CLI_COMMON_LONG_OPTIONS,
    OS_CLI_STANDARD_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

static void help(void)
{
	printf("Usage: %s -C CATALOG -o MODEL [OPTION]... [FILE]...\n",
	       os_cli_program());
	fputs("\
Train the generative model: a transformer that reads a query and writes\n\
the semantic ID of the item it wants. Every catalog item's title is an\n\
example of its own SID; every query record of the FILEs (\"query\", with\n\
\"relevant\" and/or \"graded\") is an example of each relevant item's SID.\n\
With --stage align the FILEs hold feedback records instead (\"query\",\n\
\"item\", \"click\", \"order\", \"relevance\"; \"qid\" groups a query's).\n\
With no FILE, or when FILE is -, read standard input (from /dev/null the\n\
model learns the titles alone).\n\
\n\
  -C, --catalog=FILE        the catalog, with SIDs (default: $OS_CATALOG)\n\
  -o, --output=MODEL        write the model to MODEL (whole or not at all)\n\
      --stage=STAGE         sft (cross-entropy on the SID codes), distill\n\
                            (a teacher that also reads the records' \"cot\"\n\
                            keywords, from os-cot, teaches the student that\n\
                            reads the query alone) or align (TPMA-GRPO on\n\
                            behaviour feedback, from --init)\n\
      --init=MODEL          start from this model (its shape) instead of\n\
                            random weights\n\
Distillation (--stage distill):\n\
      --kd-weight=W         weight of KL(teacher || student) on the codes\n\
                            (default 0.1)\n\
      --temperature=T       of the KL's softmaxes (default 1)\n\
      --rdrop-weight=W      weight of the symmetric KL between two dropout\n\
                            passes of the student (default 0.5; 0: one pass)\n\
      --fgm-eps=EPS         norm of FGM's move of the student's input\n\
                            embeddings (default 0.05; 0: off)\n\
      --focal               the student's loss is the focal loss\n\
      --focal-alpha=A       its alpha (default 2)\n\
      --focal-gamma=G       its gamma, at least 1 (default 3)\n\
Alignment (--stage align; --batch counts queries):\n\
      --group=N             SIDs sampled a query (default 8)\n\
      --sample-temperature=T  of the sampling (default 1)\n\
      --reward-relevance=W  weight of the item's relevance, 0-3 (default 1)\n\
      --reward-behaviour=W  weight of its behaviour: order 4, click 3\n\
                            (default 1)\n\
      --reward-overlap=W    weight of the share of its SID that a clicked\n\
                            or ordered item's begins with (default 1)\n\
      --beta=B              weight of KL(policy || reference) (default 0.04)\n\
      --sft-weight=W        weight of the clicked and ordered items'\n\
                            cross-entropy (default 0.1)\n\
      --gate=X              advantages after a sample leaves every clicked\n\
                            SID are multiplied by X (default 0.5)\n\
      --shown=N             the group's last N places (at most all of them)\n\
                            go to the query's first N feedback items\n\
                            (default 0)\n\
      --unseen=HOW          relevance and behaviour of a sample the query's\n\
                            feedback does not hold: zero (default) or mean\n\
                            (those of the query's feedback items on average)\n\
      --position-weights=LIST  five weights of a five-code SID's positions,\n\
                            scaled to the SID's length (default 2,2,1,1,0)\n\
Model:\n\
      --layers=N            transformer blocks (default 4)\n\
      --dim=N               width (default 256)\n\
      --heads=N             attention heads (default 4)\n\
      --ff=N                width of the feed-forward layer (default 1024)\n\
      --context=N           longest sequence in tokens (default 32)\n\
      --buckets=N           hashed character n-gram rows (default 65536)\n\
      --user-history=N      user tokens before a query with a \"user\": the\n\
                            SID prefixes and brands of its first N history\n\
                            items (at most 64) and its profile's words\n\
                            (default 0: none); its examples also come\n\
                            without them\n\
      --prefix-vectors      also a vector for each catalog SID prefix below\n\
                            the first level that has siblings, added to its\n\
                            code's output vector\n\
      --item-vectors=VECTORS  prefix vectors, each of which also scores the\n\
                            mean of its items' vectors (the \"embedding\"\n\
                            of VECTORS' lines, as os-tokenize --emit\n\
                            embedding writes them) through a learned\n\
                            projection of the model's state\n\
Training:\n\
      --epochs=N            passes over the examples (default 4)\n\
      --steps=N             stop after N steps instead\n\
      --batch=N             examples a step (default 256)\n\
      --lr=X                peak learning rate of AdamW (default 0.001)\n\
      --min-lr=X            learning rate at the end of the cosine decay,\n\
                            as a share of the peak (default 0.1)\n\
      --warmup=N            steps of linear warmup (default 100)\n\
      --weight-decay=X      AdamW's decay of the weight matrices (default 0.01)\n\
      --dropout=X           dropout probability (default 0.1)\n\
      --clip=X              clip the gradient's norm to X (default 1)\n\
      --constrained-loss    each level's softmax over the codes the catalog's\n\
                            SIDs allow after the prefix, as os-search ranks,\n\
                            not over all codes\n\
      --item-repeat=N       title examples an item gives per epoch (default 1;\n\
                            0: queries only)\n\
      --query-repeat=N      times each query example comes per epoch\n\
                            (default 1)\n\
      --pseudo-queries=N    pseudo-queries each item gives per epoch: 1 to 5\n\
                            of its title's tokens drawn anew each time, in\n\
                            their order (default 2)\n\
      --dense-labels=VECTORS  draw the pseudo-queries once (1 to 3 words of\n\
                            the title, in order), each also an example of\n\
                            the item os-search --dense VECTORS puts first\n\
                            for it (the catalog's encoder)\n\
      --dense-top=N         of the first N items it puts there (default 1,\n\
                            at most 64), its own excepted\n\
      --dense-queries=N     label each training query also with the first N\n\
                            items of its dense ranking (at most 64), its\n\
                            relevant ones excepted (needs --dense-labels)\n\
      --dense-query-weight=X  the weight of those examples against 1 for\n\
                            a relevant item (default 0.3)\n\
      --min-grade=G         a \"graded\" item with a grade of at least G is\n\
                            relevant (default: the \"relevant\" list decides)\n\
      --seed=N              seed of initialization, order and dropout\n\
                            (default 1)\n\
      --threads=N           threads (default: all cores)\n\
Progress and checkpoints:\n\
      --log=FILE            append metrics as JSON lines to FILE\n\
      --log-every=N         steps between log lines (default 10)\n\
      --checkpoint=FILE     where checkpoints go (default: MODEL.ckpt)\n\
      --checkpoint-every=N  steps between checkpoints (default 500; 0: only\n\
                            on interrupt)\n\
      --resume              continue from the checkpoint, exactly where it\n\
                            stopped\n\
      --valid=FILE          measure Recall@10 and MRR@10 on these queries\n\
      --valid-every=N       steps between measurements (default: each epoch)\n\
      --beam=N              beams of the measurement's search (default 20)\n\
      --max-line=BYTES      longest input line accepted (default 67108864)\n\
  -q, --quiet               no progress or report on standard error\n\
  -v, --verbose             a progress line every --log-every steps\n\
",
	      stdout);
	os_cli_help_tail("os-distill(1), os-search(1)");
}

static void plan_default(struct plan *p)
{
	memset(p, 0, sizeof *p);
	p->cfg.layers = 4;
	p->cfg.dim = 256;
	p->cfg.heads = 4;
	p->cfg.ff = 1024;
	p->cfg.context = 32;
	p->cfg.buckets = 65536;
	p->epochs = 4;
	p->batch = 256;
	p->warmup = 100;
	p->item_repeat = 1;
	p->dense_query_weight = 0.3;
	p->query_repeat = 1;
	p->pseudo = 2;
	p->lr = 1e-3;
	p->min_lr = 0.1;
	p->weight_decay = 0.01;
	p->dropout = 0.1;
	p->clip = 1;
	p->min_grade = NAN;
	p->distill = (struct os_distill_weights){.kd = 0.1, .tau = 1,
						 .rdrop = 0.5,
						 .focal_alpha = 2,
						 .focal_gamma = 3};
	p->fgm = 0.05;
	p->align = (struct align_plan){.group = 8, .temperature = 1,
				       .w_rel = 1, .w_beh = 1, .w_overlap = 1,
				       .beta = 0.04, .sft = 0.1, .gate = 0.5,
				       .pos = OS_ALIGN_POSITION_WEIGHTS};
}

/* --position-weights: five numbers >= 0, comma-separated. */
static int position_weights(const char *arg, double *out)
{
	const char *s = arg;

	for (int i = 0; i < 5; i++) {
		char *end;

		out[i] = strtod(s, &end);
		if (end == s || !(out[i] >= 0) || out[i] > 1e6 ||
		    *end != (i < 4 ? ',' : '\0')) {
			os_cli_warn("invalid --position-weights '%s' (five "
				    "numbers >= 0, e.g. 2,2,1,1,0)",
				    arg);
			return -1;
		}
		s = end + 1;
	}
	return 0;
}

static int size_option(const char *name, const char *arg, long min, long max,
		       size_t *out)
{
	long v;

	if (os_cli_parse_long(name, arg, min, max, &v) < 0)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* Returns 0 to run, 1 after --help or --version, -1 on a usage error. */
static int parse_options(int argc, char **argv, struct options *o)
{
	struct plan *p = &o->plan;
	int c, common, rc = 0;
	long dense_top = 0; /* --dense-top, 0: not given */

	memset(o, 0, sizeof *o);
	os_cli_common_init(&o->cli);
	plan_default(p);
	o->catalog = getenv("OS_CATALOG");
	o->checkpoint_every = 500;
	o->log_every = 10;
	o->beam = 20;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, ":C:o:qvhV",
					   long_options, NULL)) != -1) {
		common = os_cli_common_option(c, optarg, &o->cli);
		if (common < 0)
			return -1;
		if (common)
			continue;
		switch (c) {
		case 'C':
			o->catalog = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case OPT_STAGE: {
			int i;

			if (os_cli_parse_choice("--stage", optarg, stage_names,
						&i) < 0)
				return -1;
			p->stage = (enum stage)i;
			break;
		}
		case OPT_INIT:
			o->init = optarg;
			break;
		case OPT_KD_WEIGHT:
			rc = os_cli_parse_double("--kd-weight", optarg, 0, 1e3,
						 &p->distill.kd);
			break;
		case OPT_TEMPERATURE:
			rc = os_cli_parse_double("--temperature", optarg, 0.01,
						 100, &p->distill.tau);
			break;
		case OPT_RDROP_WEIGHT:
			rc = os_cli_parse_double("--rdrop-weight", optarg, 0,
						 1e3, &p->distill.rdrop);
			break;
		case OPT_FGM_EPS:
			rc = os_cli_parse_double("--fgm-eps", optarg, 0, 1e3,
						 &p->fgm);
			break;
		case OPT_FOCAL:
			p->distill.focal = 1;
			break;
		case OPT_FOCAL_ALPHA:
			rc = os_cli_parse_double("--focal-alpha", optarg, 0,
						 1e3, &p->distill.focal_alpha);
			break;
		case OPT_FOCAL_GAMMA:
			rc = os_cli_parse_double("--focal-gamma", optarg, 1,
						 100, &p->distill.focal_gamma);
			break;
		case OPT_LAYERS:
			rc = size_option("--layers", optarg, 1, 64,
					 &p->cfg.layers);
			break;
		case OPT_DIM:
			rc = size_option("--dim", optarg, 4, 8192, &p->cfg.dim);
			break;
		case OPT_HEADS:
			rc = size_option("--heads", optarg, 1, 256,
					 &p->cfg.heads);
			break;
		case OPT_FF:
			rc = size_option("--ff", optarg, 4, 65536, &p->cfg.ff);
			break;
		case OPT_CONTEXT:
			rc = size_option("--context", optarg, 4,
					 OS_NN_MAX_CONTEXT, &p->cfg.context);
			break;
		case OPT_BUCKETS:
			rc = size_option("--buckets", optarg, 1, 1L << 24,
					 &p->cfg.buckets);
			break;
		case OPT_EPOCHS:
			rc = os_cli_parse_long("--epochs", optarg, 1, 100000,
					       &p->epochs);
			break;
		case OPT_STEPS:
			rc = os_cli_parse_long("--steps", optarg, 1, 1L << 40,
					       &p->steps);
			break;
		case OPT_BATCH:
			rc = os_cli_parse_long("--batch", optarg, 1, 1L << 20,
					       &p->batch);
			break;
		case OPT_LR:
			rc = os_cli_parse_double("--lr", optarg, 0, 10, &p->lr);
			break;
		case OPT_MIN_LR:
			rc = os_cli_parse_double("--min-lr", optarg, 0, 1,
						 &p->min_lr);
			break;
		case OPT_WARMUP:
			rc = os_cli_parse_long("--warmup", optarg, 0, 1L << 40,
					       &p->warmup);
			break;
		case OPT_WEIGHT_DECAY:
			rc = os_cli_parse_double("--weight-decay", optarg, 0, 1,
						 &p->weight_decay);
			break;
		case OPT_DROPOUT:
			rc = os_cli_parse_double("--dropout", optarg, 0, 0.9,
						 &p->dropout);
			break;
		case OPT_CLIP:
			rc = os_cli_parse_double("--clip", optarg, 1e-6, 1e6,
						 &p->clip);
			break;
		case OPT_CONSTRAINED_LOSS:
			p->constrained = 1;
			break;
		case OPT_ITEM_REPEAT:
			rc = os_cli_parse_long("--item-repeat", optarg, 0, 1000,
					       &p->item_repeat);
			break;
		case OPT_QUERY_REPEAT:
			rc = os_cli_parse_long("--query-repeat", optarg, 0,
					       1000, &p->query_repeat);
			break;
		case OPT_PSEUDO_QUERIES:
			rc = os_cli_parse_long("--pseudo-queries", optarg, 0,
					       1000, &p->pseudo);
			break;
		case OPT_DENSE_LABELS:
			o->dense_labels = optarg;
			break;
		case OPT_DENSE_TOP:
			rc = os_cli_parse_long("--dense-top", optarg, 1,
					       OS_DENSE_TOP_MAX, &dense_top);
			break;
		case OPT_DENSE_QUERIES:
			rc = os_cli_parse_long("--dense-queries", optarg, 0,
					       OS_DENSE_TOP_MAX,
					       &p->dense_queries);
			break;
		case OPT_DENSE_QUERY_WEIGHT:
			rc = os_cli_parse_double("--dense-query-weight",
						 optarg, 0, 1e3,
						 &p->dense_query_weight);
			break;
		case OPT_MIN_GRADE:
			rc = os_cli_parse_double("--min-grade", optarg, 0, 1e9,
						 &p->min_grade);
			break;
		case OPT_LOG:
			o->log = optarg;
			break;
		case OPT_LOG_EVERY:
			rc = os_cli_parse_long("--log-every", optarg, 1,
					       1L << 40, &o->log_every);
			break;
		case OPT_CHECKPOINT:
			o->checkpoint = optarg;
			break;
		case OPT_CHECKPOINT_EVERY:
			rc = os_cli_parse_long("--checkpoint-every", optarg, 0,
					       1L << 40, &o->checkpoint_every);
			break;
		case OPT_RESUME:
			o->resume = 1;
			break;
		case OPT_VALID:
			o->valid = optarg;
			break;
		case OPT_VALID_EVERY:
			rc = os_cli_parse_long("--valid-every", optarg, 1,
					       1L << 40, &o->valid_every);
			break;
		case OPT_BEAM:
			rc = os_cli_parse_long("--beam", optarg, 1, 4096,
					       &o->beam);
			break;
		case OPT_GROUP:
			rc = os_cli_parse_long("--group", optarg, 2, 4096,
					       &p->align.group);
			break;
		case OPT_SAMPLE_TEMPERATURE:
			rc = os_cli_parse_double("--sample-temperature", optarg,
						 0.01, 100, &p->align.temperature);
			break;
		case OPT_REWARD_RELEVANCE:
			rc = os_cli_parse_double("--reward-relevance", optarg,
						 0, 1e3, &p->align.w_rel);
			break;
		case OPT_REWARD_BEHAVIOUR:
			rc = os_cli_parse_double("--reward-behaviour", optarg,
						 0, 1e3, &p->align.w_beh);
			break;
		case OPT_REWARD_OVERLAP:
			rc = os_cli_parse_double("--reward-overlap", optarg, 0,
						 1e3, &p->align.w_overlap);
			break;
		case OPT_BETA:
			rc = os_cli_parse_double("--beta", optarg, 0, 1e3,
						 &p->align.beta);
			break;
		case OPT_SFT_WEIGHT:
			rc = os_cli_parse_double("--sft-weight", optarg, 0, 1e3,
						 &p->align.sft);
			break;
		case OPT_GATE:
			rc = os_cli_parse_double("--gate", optarg, 0, 1,
						 &p->align.gate);
			break;
		case OPT_SHOWN:
			rc = os_cli_parse_long("--shown", optarg, 0, 1024,
					       &p->align.shown);
			break;
		case OPT_UNSEEN: {
			int i;

			if (os_cli_parse_choice("--unseen", optarg,
						unseen_names, &i) < 0)
				return -1;
			p->align.unseen_mean = i;
			break;
		}
		case OPT_PREFIX_VECTORS:
			p->prefix_vectors = 1;
			break;
		case OPT_ITEM_VECTORS:
			o->item_vectors = optarg;
			p->prefix_vectors = 1;
			break;
		case OPT_USER_HISTORY:
			rc = size_option("--user-history", optarg, 0,
					 OS_USER_HISTORY_MAX,
					 &p->cfg.user_history);
			break;
		case OPT_POSITION_WEIGHTS:
			rc = position_weights(optarg, p->align.pos);
			break;
		default:
			return os_cli_standard_option(c, argv, help) > 0 ? 1
									 : -1;
		}
	}
	if (rc < 0)
		return -1;
	if (!o->catalog || !*o->catalog) {
		os_cli_warn("no catalog: give -C FILE or set OS_CATALOG");
		return -1;
	}
	p->seed = (uint64_t)o->cli.seed;
	if (!o->output) {
		os_cli_warn("no model file: give -o MODEL");
		return -1;
	}
	if (o->dense_labels && (p->stage == STAGE_ALIGN || p->pseudo == 0)) {
		os_cli_warn("--dense-labels labels pseudo-queries: it needs "
			    "--pseudo-queries of 1 or more, and --stage sft or "
			    "distill");
		return -1;
	}
	if (dense_top && !o->dense_labels) {
		os_cli_warn("--dense-top says how many items --dense-labels "
			    "gives a pseudo-query: give --dense-labels too");
		return -1;
	}
	if (p->dense_queries && !o->dense_labels) {
		os_cli_warn("--dense-queries ranks with the vectors of "
			    "--dense-labels: give --dense-labels too");
		return -1;
	}
	p->dense_labels = o->dense_labels ? (dense_top ? dense_top : 1) : 0;
	if (o->item_vectors && o->init) {
		os_cli_warn(
		    "--item-vectors gives a new model its item vectors; "
		    "the model of --init keeps its own");
		return -1;
	}
	if (p->stage == STAGE_ALIGN && !o->init) {
		os_cli_warn("--stage align needs --init MODEL (the model to "
			    "align, and its frozen reference)");
		return -1;
	}
	if (p->cfg.dim % p->cfg.heads) {
		os_cli_warn("--dim (%zu) must be a multiple of --heads (%zu)",
			    p->cfg.dim, p->cfg.heads);
		return -1;
	}
	o->inputs = argv + optind;
	o->ninputs = (size_t)(argc - optind);
	return 0;
}

/* ---- the plan as settings of the model file ---- */

/* The settings that decide a run, all but "step" (the step reached)
 * compared on --resume: key/value pairs for the model file,
 * the values formatted into text. */
enum { PLAN_CAPACITY = 48 };

struct plan_settings {
	const char *kv[2 * PLAN_CAPACITY];
	char text[PLAN_CAPACITY][64];
	size_t n;
};

static void plan_settings_make(struct plan_settings *s, const struct plan *p,
			       const struct data *d, long step)
{
	s->n = 0;
#define SET(key, ...)                                                        \
	do {                                                                 \
		assert(s->n < PLAN_CAPACITY);                                \
		s->kv[2 * s->n] = key;                                       \
		snprintf(s->text[s->n], sizeof s->text[0], __VA_ARGS__);     \
		s->kv[2 * s->n + 1] = s->text[s->n];                         \
		s->n++;                                                      \
	} while (0)
	SET("stage", "%s", stage_names[p->stage]);
	SET("epochs", "%ld", p->epochs);
	SET("steps", "%ld", p->steps);
	SET("batch", "%ld", p->batch);
	SET("warmup", "%ld", p->warmup);
	SET("item_repeat", "%ld", p->item_repeat);
	SET("query_repeat", "%ld", p->query_repeat);
	SET("pseudo_queries", "%ld", p->pseudo);
	SET("dense_labels", "%ld", p->dense_labels);
	SET("dense_queries", "%ld", p->dense_queries);
	SET("dense_query_weight", "%.17g", p->dense_query_weight);
	SET("lr", "%.17g", p->lr);
	SET("min_lr", "%.17g", p->min_lr);
	SET("weight_decay", "%.17g", p->weight_decay);
	SET("dropout", "%.17g", p->dropout);
	SET("clip", "%.17g", p->clip);
	SET("min_grade", "%.17g", p->min_grade);
	SET("kd_weight", "%.17g", p->distill.kd);
	SET("temperature", "%.17g", p->distill.tau);
	SET("rdrop_weight", "%.17g", p->distill.rdrop);
	SET("fgm_eps", "%.17g", p->fgm);
	SET("focal", "%d", p->distill.focal);
	SET("constrained_loss", "%d", p->constrained);
	SET("focal_alpha", "%.17g", p->distill.focal_alpha);
	SET("focal_gamma", "%.17g", p->distill.focal_gamma);
	SET("group", "%ld", p->align.group);
	SET("sample_temperature", "%.17g", p->align.temperature);
	SET("reward_relevance", "%.17g", p->align.w_rel);
	SET("reward_behaviour", "%.17g", p->align.w_beh);
	SET("reward_overlap", "%.17g", p->align.w_overlap);
	SET("beta", "%.17g", p->align.beta);
	SET("sft_weight", "%.17g", p->align.sft);
	SET("gate", "%.17g", p->align.gate);
	SET("shown", "%ld", p->align.shown);
	SET("unseen", "%s", unseen_names[p->align.unseen_mean]);
	SET("position_weights", "%.4g,%.4g,%.4g,%.4g,%.4g", p->align.pos[0],
	    p->align.pos[1], p->align.pos[2], p->align.pos[3], p->align.pos[4]);
	SET("seed", "%llu", (unsigned long long)p->seed);
	SET("data_fingerprint", "%016llx", (unsigned long long)d->fingerprint);
	SET("step", "%ld", step);
#undef SET
}

/* ---- training ---- */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int save_checkpoint(struct trainer *t, struct os_error *err)
{
	struct plan_settings s;

	plan_settings_make(&s, t->p, t->d, t->step);
	return os_model_save(&t->m, t->checkpoint, 1, s.kv, s.n, err);
}

static void progress(struct trainer *t, double loss, int force)
{
	double now = os_cli_now(), rate, eta;
	int width = 24, done;

	if (t->o->cli.quiet || (!t->tty && !force))
		return;
	if (!force && now - t->last_progress < 0.25)
		return;
	t->last_progress = now;
	rate = t->window_examples / fmax(1e-9, now - t->window_start);
	eta =
	    (double)(t->total - t->step) * (double)t->p->batch / fmax(1, rate);
	done = (int)((double)width * (double)t->step / (double)t->total);
	fprintf(stderr,
		"%sstep %ld/%ld [%.*s%*s] loss %.4f  %.0f ex/s  ETA %dm%02ds%s",
		t->tty ? "\r" : "", t->step, t->total, done,
		"========================", width - done, "", loss, rate,
		(int)(eta / 60), (int)eta % 60, t->tty ? "  " : "\n");
	fflush(stderr);
}

static void log_step(struct trainer *t, double loss, double lr, double norm)
{
	double now = os_cli_now();
	double rate = t->window_examples / fmax(1e-9, now - t->window_start);

	if (!t->log)
		return;
	fprintf(t->log, "{\"step\":%ld,\"epoch\":%.4f,\"loss\":%.6g,", t->step,
		(double)t->step / (double)t->steps_per_epoch, loss);
	fprintf(t->log, "\"lr\":%.6g,\"grad_norm\":%.6g,", lr, norm);
	if (t->p->stage == STAGE_DISTILL)
		fprintf(t->log,
			"\"ce_student\":%.6g,\"ce_teacher\":%.6g,\"kd\":%.6g,"
			"\"rdrop\":%.6g,\"fgm\":%.6g,\"focal\":%.6g,",
			t->terms.ce_student, t->terms.ce_teacher, t->terms.kd,
			t->terms.rdrop, t->terms.fgm, t->terms.focal);
	if (t->p->stage == STAGE_ALIGN)
		fprintf(t->log,
			"\"reward\":%.6g,\"reward_relevance\":%.6g,"
			"\"reward_behaviour\":%.6g,\"reward_overlap\":%.6g,"
			"\"positive_groups\":%.4g,\"policy\":%.6g,\"kl\":%.6g,"
			"\"sft\":%.6g,",
			t->aterms.reward, t->aterms.rel, t->aterms.beh,
			t->aterms.overlap, t->aterms.positive, t->aterms.policy,
			t->aterms.kl, t->aterms.sft);
	fprintf(t->log, "\"examples_per_s\":%.1f,\"elapsed\":%.2f}\n", rate,
		now - t->started);
}

static int run_validation(struct trainer *t, struct os_error *err)
{
	struct os_valid_result r;

	if (os_validate(t->valid, &t->m, (size_t)t->o->beam, &r, err) < 0)
		return -1;
	if (t->log)
		fprintf(t->log,
			"{\"step\":%ld,\"valid_queries\":%zu,"
			"\"valid_recall@10\":%.4f,\"valid_mrr@10\":%.4f}\n",
			t->step, r.queries, r.recall, r.mrr);
	if (!t->o->cli.quiet)
		fprintf(stderr,
			"%sstep %ld: valid Recall@10 %.4f  MRR@10 %.4f (%zu "
			"queries)\n",
			t->tty ? "\r" : "", t->step, r.recall, r.mrr,
			r.queries);
	return 0;
}

static int train(struct trainer *t, struct os_error *err)
{
	const struct options *o = t->o;
	long valid_every = o->valid_every ? o->valid_every : t->steps_per_epoch;
	double loss = 0, lr = 0, norm = 0;

	t->started = t->window_start = os_cli_now();
	while (t->step < t->total) {
		if (train_step(t, &loss, &lr, &norm, err) < 0)
			return -1;
		if (t->step % o->log_every == 0 || t->step == t->total) {
			log_step(t, loss, lr, norm);
			progress(t, loss, o->cli.verbose);
			t->window_start = os_cli_now();
			t->window_examples = 0;
			t->window_steps = 0;
		} else {
			progress(t, loss, 0);
		}
		if (interrupted) {
			if (save_checkpoint(t, err) < 0)
				return -1;
			if (t->tty && !o->cli.quiet)
				fputc('\n', stderr);
			os_error_set(err, 130,
				     "interrupted at step %ld of %ld; "
				     "checkpoint saved to "
				     "'%s' (continue with --resume)",
				     t->step, t->total, t->checkpoint);
			return -1;
		}
		if (t->valid &&
		    (t->step % valid_every == 0 || t->step == t->total) &&
		    run_validation(t, err) < 0)
			return -1;
		if (o->checkpoint_every && t->step % o->checkpoint_every == 0 &&
		    t->step < t->total && save_checkpoint(t, err) < 0)
			return -1;
	}
	if (t->tty && !o->cli.quiet)
		fputc('\n', stderr);
	return 0;
}

/* Starts from the checkpoint: the model, the moments and the step; the
 * command line's plan must be the checkpoint's. */
static int resume(struct trainer *t, struct os_error *err)
{
	struct os_tensorfile settings;
	struct plan_settings s;
	const char *step;

	if (os_model_load(&t->m, t->checkpoint, 1, &settings, err) < 0)
		return -1;
	plan_settings_make(&s, t->p, t->d, 0);
	for (size_t i = 0; i < s.n; i++) {
		const char *was;

		if (strcmp(s.kv[2 * i], "step") == 0)
			continue;
		was = os_tensorfile_get(&settings, s.kv[2 * i]);
		if (!was || strcmp(was, s.kv[2 * i + 1]) != 0) {
			os_error_set(
			    err, OS_EXIT_USAGE,
			    "%s: the checkpoint was made with %s %s, not %s; "
			    "give the options of the interrupted run",
			    t->checkpoint, s.kv[2 * i], was ? was : "(none)",
			    s.kv[2 * i + 1]);
			os_tensorfile_release(&settings);
			return -1;
		}
	}
	if (memcmp(&t->m.cfg, &t->p->cfg, sizeof t->m.cfg) != 0) {
		os_error_set(
		    err, OS_EXIT_USAGE,
		    "%s: the checkpoint's model has another shape than the "
		    "options give",
		    t->checkpoint);
		os_tensorfile_release(&settings);
		return -1;
	}
	step = os_tensorfile_get(&settings, "step");
	t->step = step ? atol(step) : 0;
	t->opt.step = t->step;
	os_tensorfile_release(&settings);
	if (!t->m.adam_m) {
		os_error_set(err, OS_EXIT_FAILURE,
			     "%s: not a checkpoint (no optimizer state)",
			     t->checkpoint);
		return -1;
	}
	return 0;
}

/* --init: the model to start from, whose shape replaces the options'. */
static int init_model(struct os_model *m, struct plan *p, const char *path,
		      const struct os_generative *g, struct os_error *err)
{
	if (os_model_load(m, path, 0, NULL, err) < 0 ||
	    os_generative_check(g, m, path, err) < 0)
		return -1;
	p->cfg = m->cfg;
	return 0;
}

/* The vectors of --item-vectors, in the index's item order: *vec (items x
 * *dim) and *has (items) are malloc'd. Returns 0 or -1 with err. */
static int load_item_vectors(const struct options *o, struct os_catalog *cat,
			     const struct os_sidindex *index, float **vec,
			     unsigned char **has, size_t *dim,
			     struct os_error *err)
{
	struct os_dense_index dx;
	size_t n = os_sidindex_items(index), missing = 0;
	int rc = -1;

	os_dense_index_init(&dx);
	if (os_dense_index_load(&dx, cat, o->item_vectors,
				(size_t)o->cli.max_line, err) < 0)
		goto done;
	*dim = dx.dim;
	*vec = malloc((n * dx.dim + 1) * sizeof **vec);
	*has = calloc(n + 1, 1);
	if (!*vec || !*has) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		const char *id = os_sidindex_id(index, i);
		long row = os_strmap_find(&dx.ids, id, strlen(id));

		if (row < 0) {
			missing++;
			continue;
		}
		memcpy(*vec + i * dx.dim, dx.x + (size_t)row * dx.dim,
		       dx.dim * sizeof **vec);
		(*has)[i] = 1;
	}
	if (missing == n) {
		os_error_set(err, OS_EXIT_BAD_INPUT,
			     "%s: no vector of a catalog item with a SID",
			     o->item_vectors);
		goto done;
	}
	if (missing)
		os_cli_warn("%zu of the catalog's items have no vector in '%s': "
			    "they add nothing to their prefixes' means",
			    missing, o->item_vectors);
	rc = 0;
done:
	os_dense_index_release(&dx);
	return rc;
}

static void report(const struct trainer *t, const struct data *d)
{
	const char *core = os_blas_core();

	if (t->p->stage == STAGE_ALIGN)
		os_cli_warn("%zu queries with feedback (%ld lines; %ld of "
			    "items without a SID, ignored), a group of %ld "
			    "SIDs each",
			    d->nex, d->fb_lines, d->fb_unknown,
			    t->p->align.group);
	else
		os_cli_warn("%zu examples an epoch: %zu titles x %ld, %zu pseudo-queries, "
		    "%zu queries giving %zu query-item pairs x %ld",
		    d->nex, d->items, t->p->item_repeat,
		    d->items * (size_t)t->p->pseudo, d->queries, d->pairs,
		    t->p->query_repeat);
	if (t->p->dense_labels)
		os_cli_warn("the %zu pseudo-queries are drawn once; they are "
			    "also %zu examples of other items, of their dense "
			    "ranking's first %ld",
			    d->dense_pseudo, d->dense_other,
			    t->p->dense_labels);
	if (t->p->dense_queries)
		os_cli_warn("%zu examples label queries with other items of "
			    "their dense ranking's first %ld, at weight %g",
			    d->dense_query, t->p->dense_queries,
			    t->p->dense_query_weight);
	if (t->p->constrained)
		os_cli_warn("each level's softmax over the codes the catalog's "
			    "SIDs allow after the prefix");
	if (d->user_free)
		os_cli_warn("%zu of the query-item pairs have a user: each is "
			    "also an example without it",
			    d->user_free);
	if (t->p->stage == STAGE_DISTILL)
		os_cli_warn("%zu of the query examples have CoT keywords for "
			    "the teacher",
			    d->taught);
	if (d->unknown)
		os_cli_warn(
		    "%ld relevant ids are not catalog items with a SID: "
		    "ignored",
		    d->unknown);
	os_cli_warn(
	    "model: %zu layers, dim %zu, %zu heads, ff %zu, context %zu, "
	    "user history %zu, %zu prefix vectors, %zu parameters; %ld steps "
	    "of %ld examples (%ld a epoch)",
	    t->m.cfg.layers, t->m.cfg.dim, t->m.cfg.heads, t->m.cfg.ff,
	    t->m.cfg.context, t->m.cfg.user_history, t->m.cfg.prefix_rows,
	    t->m.nparams, t->total,
	    t->p->batch, t->steps_per_epoch);
	if (t->m.cfg.item_dim)
		os_cli_warn("each prefix vector also scores the mean of its "
			    "items' vectors (%zu values)",
			    t->m.cfg.item_dim);
	if (core)
		os_cli_warn("matrix products: %s, kernels %s",
			    os_matmul_backend(), core);
	else
		os_cli_warn("matrix products: %s", os_matmul_backend());
}

static int run(struct options *o, struct os_error *err)
{
	struct os_catalog *cat = NULL;
	struct os_generative g;
	struct data d;
	struct trainer t;
	struct plan *p = &o->plan;
	char *default_ckpt = NULL;
	uint32_t *paths = NULL; /* a new model's prefix vectors' */
	float *item_vec = NULL; /* a new model's --item-vectors */
	unsigned char *has_vec = NULL;
	int rc = -1, have_g = 0;

	memset(&d, 0, sizeof d);
	memset(&t, 0, sizeof t);
	os_text_pool_init(&d.pool);
	os_batch_init(&t.batch);
	os_batch_init(&t.fgm_batch);
	os_text_pool_init(&t.views);
	if (os_catalog_open(&cat, o->catalog, OS_CATALOG_READ_ONLY, err) < 0 ||
	    os_generative_load(&g, cat, err) < 0)
		goto done;
	have_g = 1;
	if (o->init && !o->resume) {
		if (init_model(&t.m, p, o->init, &g, err) < 0)
			goto done;
	} else if (o->init) {
		/* resuming: the checkpoint holds the weights, --init the shape */
		struct os_model shape;

		memset(&shape, 0, sizeof shape);
		rc = init_model(&shape, p, o->init, &g, err);
		os_model_release(&shape);
		if (rc < 0)
			goto done;
		rc = -1;
	} else {
		p->cfg.words = g.words;
		p->cfg.levels = g.index.levels;
		for (size_t l = 0; l < p->cfg.levels; l++)
			p->cfg.codes[l] = g.index.level_codes[l];
		if (p->prefix_vectors) {
			long rows = os_prefix_paths(&g.index, &paths);

			if (rows < 0)
				goto oom;
			p->cfg.prefix_rows = (size_t)rows;
		}
		if (o->item_vectors &&
		    load_item_vectors(o, cat, &g.index, &item_vec, &has_vec,
				      &p->cfg.item_dim, err) < 0)
			goto done;
	}
	if (os_model_config_check(&p->cfg)) {
		os_error_set(err, OS_EXIT_USAGE, "%s",
			     os_model_config_check(&p->cfg));
		goto done;
	}
	if (os_generative_load_brands(&g, cat, &p->cfg, err) < 0)
		goto done;
	if ((p->stage == STAGE_ALIGN ? load_feedback(o, &g, &d, err)
				      : load_data(o, cat, &g, &d, err)) < 0)
		goto done;
	if (o->valid &&
	    !(t.valid = os_validator_load(o->valid, (size_t)o->cli.max_line,
					  p->min_grade, &g, &p->cfg, err)))
		goto done;
	os_catalog_close(cat);
	cat = NULL;
	t.o = o;
	t.p = p;
	t.g = &g;
	t.d = &d;
	t.order_epoch = -1;
	t.steps_per_epoch =
	    (long)((d.nex + (size_t)p->batch - 1) / (size_t)p->batch);
	t.total = p->steps ? p->steps : p->epochs * t.steps_per_epoch;
	t.opt = (struct os_adamw){p->lr, 0.9, 0.95, 1e-8, p->weight_decay, 0};
	t.tty = isatty(STDERR_FILENO);
	if (!(t.order = malloc(d.nex * sizeof *t.order)) ||
	    !(t.picked = malloc((size_t)p->batch * sizeof *t.picked)) ||
	    !(t.teacher_of = malloc((size_t)p->batch * sizeof *t.teacher_of)))
		goto oom;
	if (o->checkpoint) {
		t.checkpoint = o->checkpoint;
	} else {
		if (!(default_ckpt = malloc(strlen(o->output) + 6)))
			goto oom;
		sprintf(default_ckpt, "%s.ckpt", o->output);
		t.checkpoint = default_ckpt;
	}
	if (o->resume ? resume(&t, err) < 0
	    : o->init ? 0
		      : os_model_init(&t.m, &p->cfg, p->seed) < 0) {
		if (!err->status)
			goto oom;
		goto done;
	}
	strcpy(t.m.fingerprint, g.index.fingerprint);
	if (!o->resume && !o->init) {
		t.m.prefix_path = paths; /* a new model's */
		paths = NULL;
	}
	if (t.m.cfg.prefix_rows &&
	    os_prefix_node_rows(t.m.prefix_path, t.m.cfg.prefix_rows,
				t.m.cfg.levels, &g.index, &t.node_row) < 0)
		goto oom;
	if (item_vec && !o->resume &&
	    os_prefix_item_means(&g.index, t.node_row, t.m.cfg.prefix_rows,
				 item_vec, has_vec, t.m.cfg.item_dim,
				 t.m.w.nodevec) < 0)
		goto oom;
	/* the means hold what training needs of the vectors */
	free(item_vec);
	free(has_vec);
	item_vec = NULL;
	has_vec = NULL;
	if (p->stage == STAGE_ALIGN && !(t.align = aligner_new(&t, err)))
		goto done;
	if (o->log && !(t.log = fopen(o->log, "a"))) {
		os_error_set(err, OS_EXIT_FAILURE, "cannot open '%s': %s",
			     o->log, strerror(errno));
		goto done;
	}
	if (t.log)
		setvbuf(t.log, NULL, _IOLBF, 0); /* each line as soon as made */
	if (!o->cli.quiet)
		report(&t, &d);
	if (train(&t, err) < 0)
		goto done;
	{
		struct plan_settings s;

		plan_settings_make(&s, p, &d, t.step);
		if (os_model_save(&t.m, o->output, 0, s.kv, s.n, err) < 0)
			goto done;
	}
	/* a finished run needs its checkpoint no more */
	if (unlink(t.checkpoint) < 0 && errno != ENOENT)
		os_cli_warn("cannot remove '%s': %s", t.checkpoint,
			    strerror(errno));
	if (!o->cli.quiet)
		os_cli_warn("wrote '%s' after %ld steps in %.1f s", o->output,
			    t.step, os_cli_now() - t.started);
	rc = 0;
	goto done;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
done:
	if (t.log && fclose(t.log) != 0 && rc == 0) {
		os_error_set(err, OS_EXIT_FAILURE, "cannot write '%s'", o->log);
		rc = -1;
	}
	os_validator_free(t.valid);
	aligner_free(t.align);
	os_model_release(&t.m);
	os_batch_release(&t.batch);
	os_batch_release(&t.fgm_batch);
	os_text_pool_release(&t.views);
	free(t.order);
	free(t.node_row);
	free(paths);
	free(item_vec);
	free(has_vec);
	free(t.picked);
	free(t.teacher_of);
	free(t.logit_grad);
	free(t.delta);
	free(default_ckpt);
	os_text_pool_release(&d.pool);
	free(d.ex);
	free(d.more);
	free(d.fq);
	free(d.fb);
	if (have_g)
		os_generative_release(&g);
	os_catalog_close(cat);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	struct os_error err;
	struct sigaction sa;
	int status;

	os_blas_fit_cpu(argv);
	os_cli_init(argv[0]);
	os_error_clear(&err);
	status = parse_options(argc, argv, &o);
	if (status != 0) {
		return os_cli_options_exit(status);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	os_parallel_set_threads(o.cli.threads);
	os_matmul_single_threaded();
	run(&o, &err);
	status = err.status;
	if (status)
		os_cli_report(&err);
	if (status == OS_EXIT_USAGE)
		os_cli_try_help();
	if (os_cli_close_stdout(status == OS_EXIT_OK) < 0 &&
	    status == OS_EXIT_OK)
		status = OS_EXIT_FAILURE;
	return status;
}
