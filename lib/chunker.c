/*
 * Chunking of a stream: fixed 1 KB chunks, or content-defined chunks
 * with FastCDC (Xia et al., "FastCDC: a Fast and Efficient Content-Defined
 * Chunking Approach for Data Deduplication", USENIX ATC 2016).
 *
 * FastCDC rolls a gear hash over the bytes, fp = (fp << 1) + gear[byte],
 * and cuts after the byte where the masked bits of fp are all zero.  The
 * shift pushes a byte out of the top bit after 64 more bytes, so a cut
 * depends on the last 64 bytes only (and, within 64 bytes of the
 * minimum size, on where the chunk began): an insertion changes the
 * chunks around it, and the boundaries after it soon fall where they
 * fell before.  The masks take the top bits of fp, which depend on the
 * whole 64-byte window.
 *
 * Normalized chunking, level 1: no cut in the first CDC_MIN_SIZE bytes,
 * a hard mask (11 bits, one more than a 1 KB mean would take) up to the
 * normal size, an easy one (9 bits) after it, a forced cut at
 * GFS_MAX_CHUNK; sizes crowd around the mean instead of spreading
 * geometrically.  The normal size is CDC_AVG_SIZE - 1.5 * CDC_MIN_SIZE
 * = 640, FastCDC's usual offset for a skipped minimum, which brings the
 * mean to about 1030 bytes on text and on random bytes alike.  Of the
 * variants tried (levels 0 to 2, normal sizes 512 to 1024), this one
 * stored the least at a mean near 1 KB for documents edited again and
 * again (t/helper/dedup-measure).
 *
 * The cut points are part of the on-disk and dedup contract: stored
 * chunks are shared by hash between versions and files only as long as
 * the same bytes give the same boundaries.  So the gear table below is a
 * literal, the first 256 outputs of splitmix64 from seed 0, and the
 * masks and sizes are constants: nothing depends on the platform, a
 * random seed or the read sizes.  Changing any of it makes a new mode
 * with a new name; t/unit/chunker.c pins the boundaries of known input.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "chunker.h"
#include "gfs.h"

#define CDC_NORMAL_SIZE	(CDC_AVG_SIZE - CDC_MIN_SIZE - CDC_MIN_SIZE / 2)
#define CDC_MASK_S	0xffe0000000000000ULL	/* 11 bits: below normal */
#define CDC_MASK_L	0xff80000000000000ULL	/* 9 bits: from normal on */

/* splitmix64, seed 0, outputs 1 to 256.  Never change: see above. */
static const uint64_t gear[256] = {
	0xe220a8397b1dcdafULL, 0x6e789e6aa1b965f4ULL, 0x06c45d188009454fULL,
	0xf88bb8a8724c81ecULL, 0x1b39896a51a8749bULL, 0x53cb9f0c747ea2eaULL,
	0x2c829abe1f4532e1ULL, 0xc584133ac916ab3cULL, 0x3ee5789041c98ac3ULL,
	0xf3b8488c368cb0a6ULL, 0x657eecdd3cb13d09ULL, 0xc2d326e0055bdef6ULL,
	0x8621a03fe0bbdb7bULL, 0x8e1f7555983aa92fULL, 0xb54e0f1600cc4d19ULL,
	0x84bb3f97971d80abULL, 0x7d29825c75521255ULL, 0xc3cf17102b7f7f86ULL,
	0x3466e9a083914f64ULL, 0xd81a8d2b5a4485acULL, 0xdb01602b100b9ed7ULL,
	0xa9038a921825f10dULL, 0xedf5f1d90dca2f6aULL, 0x54496ad67bd2634cULL,
	0xdd7c01d4f5407269ULL, 0x935e82f1db4c4f7bULL, 0x69b82ebc92233300ULL,
	0x40d29eb57de1d510ULL, 0xa2f09dabb45c6316ULL, 0xee521d7a0f4d3872ULL,
	0xf16952ee72f3454fULL, 0x377d35dea8e40225ULL, 0x0c7de8064963bab0ULL,
	0x05582d37111ac529ULL, 0xd254741f599dc6f7ULL, 0x69630f7593d108c3ULL,
	0x417ef96181daa383ULL, 0x3c3c41a3b43343a1ULL, 0x6e19905dcbe531dfULL,
	0x4fa9fa7324851729ULL, 0x84eb4454a792922aULL, 0x134f7096918175ceULL,
	0x07dc930b302278a8ULL, 0x12c015a97019e937ULL, 0xcc06c31652ebf438ULL,
	0xecee65630a691e37ULL, 0x3e84ecb1763e79adULL, 0x690ed476743aae49ULL,
	0x774615d7b1a1f2e1ULL, 0x22b353f04f4f52daULL, 0xe3ddd86ba71a5eb1ULL,
	0xdf268adeb6513356ULL, 0x2098eb73d4367d77ULL, 0x03d6845323ce3c71ULL,
	0xc952c5620043c714ULL, 0x9b196bca844f1705ULL, 0x30260345dd9e0ec1ULL,
	0xcf448a5882bb9698ULL, 0xf4a578dccbc87656ULL, 0xbfdeaed9a17b3c8fULL,
	0xed79402d1d5c5d7bULL, 0x55f070ab1cbbf170ULL, 0x3e00a34929a88f1dULL,
	0xe255b237b8bb18fbULL, 0x2a7b67af6c6ad50eULL, 0x466d5e7f3e46f143ULL,
	0x42375cb399a4fc72ULL, 0x8c8a1f148a8bb259ULL, 0x32fcab5daed5bdfcULL,
	0x9e60398c8d8553c0ULL, 0xee89cceb8c4064c0ULL, 0xdb0215941d86a66fULL,
	0x5ccde78203c367a8ULL, 0xf1bcbc6a1ec11786ULL, 0xef054fceee954551ULL,
	0xdf82012d0555c6dfULL, 0x292566ff72403c08ULL, 0xc4dd302a1bfa1137ULL,
	0xd85f219db5c554e1ULL, 0x6a27ff807441bcd2ULL, 0x96a573e9b48216e8ULL,
	0x46a9fdac40bf0048ULL, 0x3dd12464a0ee15b4ULL, 0x451e521296a7eea1ULL,
	0x56e4398a98f8a0fdULL, 0x7b7dc2160e3335a7ULL, 0xc679ee0bebcb1ccaULL,
	0x928d6f2d7453424eULL, 0x1b38994205234c6dULL, 0x8086d193a6f2b568ULL,
	0x21c6e26639ac2c65ULL, 0xd9dccac414d23c6fULL, 0x91cd642057e00235ULL,
	0x77fc607dc6589373ULL, 0x05b8abe26dd3aee7ULL, 0x12f6436ac376cc66ULL,
	0x64952424897b2307ULL, 0xee8c2baf6343e5c3ULL, 0xdc4c613d9eba2304ULL,
	0x3505b7796bd1a506ULL, 0x8176daf800a05f50ULL, 0x8bd8ff7a0385cdbcULL,
	0x1a764a3cd78101daULL, 0xbe4d15bf6ca266acULL, 0xa85e1f38bb2dc749ULL,
	0x56759a968493cd8cULL, 0xf3a9bce7336bd182ULL, 0x365b15013741519bULL,
	0x1f7a44a6b109ac94ULL, 0x3521d628813cb177ULL, 0x6a77afab0f7c9370ULL,
	0x179642d8cde95015ULL, 0x5ef102a8fb354461ULL, 0xf51c504764ed82f2ULL,
	0xc58427f041ce6808ULL, 0xfad8fc45c9643c37ULL, 0xcf8682f9a70fa9c0ULL,
	0x7e1b3b75a4005729ULL, 0x992dd867927b52d8ULL, 0x7fbd5db142f6791fULL,
	0x370595aacab4adaeULL, 0xb1392dbdc5ab61d6ULL, 0x9fea7dfc79d452d9ULL,
	0x40b12b120085641cULL, 0xa192afe3157c85d0ULL, 0xc847729f4e08f3a3ULL,
	0x6f1384a306c41fc2ULL, 0x12d05c4045a39c19ULL, 0x9899202fd20f0841ULL,
	0xe9c7191857e774b8ULL, 0x4eead809af5b0cc3ULL, 0xe809acafa23864a4ULL,
	0x4da1edaba1d0f7bdULL, 0x846eb9673349f8e4ULL, 0x87bae55b86039fe8ULL,
	0x7f367b8bd953eff2ULL, 0x3884700f650d04e1ULL, 0xbfe4b2ab46980cadULL,
	0xc5fc89075299106cULL, 0x37b2fa361adea7cdULL, 0x7d75d813f04895b4ULL,
	0x702f5b393f62c0e0ULL, 0x0a3fc775f4ecf37fULL, 0xe4b23787a352437fULL,
	0xf83fa245c34d6363ULL, 0xb99bcf040786cf50ULL, 0x38b6ea0a0e6c9d8aULL,
	0x093fdc76776e37e1ULL, 0x1a75e6f76ba7eee8ULL, 0x442cdcfee9660c62ULL,
	0x22d58d35116b5e0bULL, 0x87d4a5180f6a3645ULL, 0x589fb216bd82131bULL,
	0x91d031cad319aec0ULL, 0xabecf76a553d320bULL, 0xb8686cb347612dcfULL,
	0xfcab66337c0a77f5ULL, 0xac318214381ec437ULL, 0x6eb7f0fca24494aeULL,
	0xcf42861dcdc895a9ULL, 0x4abad7a1586d7a91ULL, 0xc21b318dc2f49745ULL,
	0xd49474dc2acbd1f0ULL, 0xb1d4873747c1c8e1ULL, 0x5434dc8c7d015bf6ULL,
	0xe1c486287511b6a9ULL, 0xa8616df62e89a193ULL, 0x31ce6319498d8347ULL,
	0xafd0b486123d6faaULL, 0xe6495f5d102301ebULL, 0x0dc51ced17a43c52ULL,
	0x8bcbcde81355ef2dULL, 0x2412af73fdee7cfcULL, 0xc8d589e486e29eedULL,
	0x23390e8664517f89ULL, 0x251ade58e8a6849dULL, 0xf8555dbd2e8f9cb0ULL,
	0xcb417c3eef54f7c3ULL, 0x8028f8e1aac3a919ULL, 0x10e31052acf748a0ULL,
	0x2d886c073b1e1b78ULL, 0x972974d90df9faeeULL, 0xbc1b7b38796893baULL,
	0x1958ed432070e652ULL, 0xca5f297197a12dccULL, 0xe025a27375704f28ULL,
	0x418010a570a924fbULL, 0x9828e2941bfc419cULL, 0x4fbacd2f52b85c1fULL,
	0x33dd5b756211cc67ULL, 0x23c8dfdd1db57ff0ULL, 0x32f81801a1a8e901ULL,
	0x26884eac5ada36daULL, 0xcaa82f9bb42e37d4ULL, 0x19fb1a7491d6a7d1ULL,
	0x5aa0243aa357f38eULL, 0xb31d917809e447f0ULL, 0x3f9c197225215be0ULL,
	0xdc3c315a1e33c095ULL, 0x3dd399ad533e80acULL, 0x566f32cce8301d95ULL,
	0xc880188083d9ba21ULL, 0xb9cc357f3b0e7d2eULL, 0x0237d2123a8a8d6cULL,
	0xbf636e9aa7cbf6bdULL, 0xd7bd4284c4e2a6a7ULL, 0xda2ebb47d50577a9ULL,
	0x90ba1c11b539087dULL, 0x44993d31552b4f57ULL, 0x32c2d6f80a8a8898ULL,
	0x450583ed7fb54b19ULL, 0xec2b0b09e50ef3efULL, 0xd918a0b6e2efd65cULL,
	0xe37a868d9785f572ULL, 0x7d1a6118f2b0f37aULL, 0x9e2e3cc13b343439ULL,
	0xefd82c11212e37e8ULL, 0xaf89c05cd4fc75edULL, 0x55bc16bb9697108eULL,
	0x6c4701fa5db69beeULL, 0x9237338441daf445ULL, 0x248cf0831e81a5fcULL,
	0xacc13557e77de273ULL, 0x520970c25e06513aULL, 0x657329cb02987cabULL,
	0xa9b0b3366a4e55a8ULL, 0xc4d06ca2f39acdd4ULL, 0x5dce37d68170cde1ULL,
	0x5f1e44e77e1854c9ULL, 0x6883d452d55df899ULL, 0x05c5bd62f1067032ULL,
	0xe680b683ce60fab0ULL, 0x5dc9da3f286d18b1ULL, 0x94b4bf3ab85ed6d8ULL,
	0xce65f449e3acc5a3ULL, 0x34b0209642cea639ULL, 0xc14c3c771d904827ULL,
	0x6addcee2bd9cdee5ULL, 0xe24eed137ffbb613ULL, 0x75dd58ef79963d1bULL,
	0xfdb83ecf6cc24920ULL, 0x7a1d0057c57169fbULL, 0x339200f4feb62d07ULL,
	0xd33f4d4ac88469f4ULL, 0x8226f234e68dfee4ULL, 0x320def4f2a105536ULL,
	0x7786f3b13aefc159ULL, 0xb28225ac9df63ee2ULL, 0x781b9d0376cc6044ULL,
	0x05bd0115226c6ab6ULL, 0xd302230207bdfdabULL, 0xdb898abd8e0d2933ULL,
	0x9e79a397ba00b9ccULL, 0x89df84a5f0003ee8ULL, 0x011f04f2a75fb9beULL,
	0x5a5832bb47bcf19eULL,
};

static const char *const names[] = {
	[CHUNK_FIXED] = "fixed",
	[CHUNK_CDC] = "cdc",
};

const char *
chunking_name(int mode)
{
	if (mode < 0 || (size_t)mode >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[mode];
}

int
chunking_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

void
chunker_init(struct chunker *c, int fd, int mode)
{
	c->fd = fd;
	c->mode = mode;
	c->eof = 0;
	c->off = c->len = 0;
}

/*
 * Read into p, room bytes, until there are at least want or the stream
 * ends; *have says how many came, also on an error.
 */
static int
read_some(struct chunker *c, unsigned char *p, size_t want, size_t room,
    size_t *have)
{
	*have = 0;
	while (!c->eof && *have < want) {
		ssize_t r = read(c->fd, p + *have, room - *have);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return GFS_EIO;
		}
		if (r == 0)
			c->eof = 1;
		*have += (size_t)r;
	}
	return 0;
}

static int
fixed_next(struct chunker *c, unsigned char *buf)
{
	size_t	have;

	if (read_some(c, buf, GFS_CHUNK_SIZE, GFS_CHUNK_SIZE, &have) < 0)
		return GFS_EIO;
	return (int)have;
}

/* The length of the chunk that starts p, of the n bytes there are. */
static size_t
cdc_cut(const unsigned char *p, size_t n)
{
	uint64_t	fp = 0;
	size_t		i = CDC_MIN_SIZE, normal = CDC_NORMAL_SIZE;

	if (n <= CDC_MIN_SIZE)
		return n;
	if (n > GFS_MAX_CHUNK)
		n = GFS_MAX_CHUNK;
	if (normal > n)
		normal = n;
	for (; i < normal; i++) {
		fp = (fp << 1) + gear[p[i]];
		if ((fp & CDC_MASK_S) == 0)
			return i + 1;
	}
	for (; i < n; i++) {
		fp = (fp << 1) + gear[p[i]];
		if ((fp & CDC_MASK_L) == 0)
			return i + 1;
	}
	return n;
}

/*
 * Keep GFS_MAX_CHUNK bytes ahead of the cut, whatever the read sizes:
 * cdc_cut sees either a whole maximal chunk or the end of the stream.
 */
static int
cdc_next(struct chunker *c, unsigned char *buf)
{
	size_t	have, n;
	int	rc;

	if (c->len - c->off < GFS_MAX_CHUNK && !c->eof) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
		rc = read_some(c, c->buf + c->len, GFS_MAX_CHUNK - c->len,
		    sizeof(c->buf) - c->len, &have);
		c->len += have;
		if (rc < 0)
			return rc;
	}
	n = cdc_cut(c->buf + c->off, c->len - c->off);
	memcpy(buf, c->buf + c->off, n);
	c->off += n;
	return (int)n;
}

int
chunker_next(struct chunker *c, unsigned char *buf)
{
	switch (c->mode) {
	case CHUNK_FIXED:
		return fixed_next(c, buf);
	case CHUNK_CDC:
		return cdc_next(c, buf);
	default:
		return GFS_EINVAL;
	}
}
