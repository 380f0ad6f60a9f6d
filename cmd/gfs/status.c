/*
 * gfs status: the leader, then each chunk server: its state, misses and
 * last answer as the leader's health checks see them, its ring share,
 * and what it says itself (PING, STATS).  A server the leader finds
 * healthy but that does not answer us shows as "down".  Exits 3 when
 * any server is not healthy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "banned.h"
#include "cli.h"

static double
jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

int
gfs_cmd_status(struct gfs *g, int argc, char **argv)
{
	char	*json, *line;
	cJSON	*o;
	double	*shares, logical, unique, versions, trash, stored = 0, disk = 0;
	int	 i, rc, bad = 0;

	(void)argv;
	if (argc != 1)
		return usage_error(NULL);
	if ((rc = gfs_stats(&g->leader, &json)) < 0) {
		gfs_leader_err(g, rc);
		return error("cannot reach leader: %s", g->err), EXIT_FAIL;
	}
	if ((rc = gfs_ring(g, UINT64_MAX)) < 0) {
		free(json);
		return error("cannot read the ring: %s", g->err), EXIT_FAIL;
	}
	o = cJSON_Parse(json);
	free(json);
	printf("leader %s: %.0f files, %d chunk servers, %d replicas, "
	    "ring epoch %llu, %.0f pending\n", g->leader.addr,
	    jnum(o, "files"), g->ring->nservers, g->ring->replicas,
	    (unsigned long long)g->ring->epoch, jnum(o, "pending"));
	logical = jnum(o, "logical_bytes");
	unique = jnum(o, "chunks");
	versions = jnum(o, "versions");
	trash = jnum(o, "trash");
	cJSON_Delete(o);
	shares = calloc((size_t)g->ring->nservers + 1, sizeof(*shares));
	ring_shares(g->ring, shares);
	printf("%-16s  %-21s  %-9s  %6s  %9s  %6s  %10s  %12s  %12s\n", "ID",
	    "ADDRESS", "STATE", "MISSES", "LAST-SEEN", "SHARE", "CHUNKS",
	    "BYTES", "DISK");
	for (i = 0; i < g->ring->nservers; i++) {
		struct ring_server	*rs = &g->ring->servers[i];
		struct cconn		*c = &g->chunk[i];
		const char		*state = ring_state_name(rs->state);
		char			 chunks[24] = "-", bytes[24] = "-";
		char			 dbytes[24] = "-";

		if (rs->state != SRV_HEALTHY)
			bad++;
		/* What the leader says, and whether it answers us. */
		cconn_printf(c, "PING\r\n");
		if (cconn_reply(c, &line) < 0 || strncmp(line, "PONG ", 5) != 0 ||
		    gfs_stats(c, &json) < 0) {
			if (rs->state == SRV_HEALTHY) {
				/* The leader has not noticed yet. */
				state = "down";
				bad++;
			}
		} else {
			o = cJSON_Parse(json);
			free(json);
			snprintf(chunks, sizeof(chunks), "%.0f", jnum(o, "chunks"));
			snprintf(bytes, sizeof(bytes), "%.0f", jnum(o, "bytes"));
			snprintf(dbytes, sizeof(dbytes), "%.0f", jnum(o, "disk_bytes"));
			stored += jnum(o, "bytes");
			disk += jnum(o, "disk_bytes");
			cJSON_Delete(o);
		}
		printf("%-16s  %-21s  %-9s  %6u  %8.1fs  %5.1f%%  %10s  %12s  "
		    "%12s\n", rs->id, rs->addr, state, rs->misses,
		    (double)rs->seen_ms / 1000, shares[i] * 100, chunks, bytes,
		    dbytes);
	}
	free(shares);
	/*
	 * Logical: every version's size; stored: the chunk bytes the
	 * servers hold (unique chunks times replicas, and garbage not yet
	 * collected); on disk: their segment files, deleted records
	 * included until compaction.
	 */
	printf("space: %.0f logical bytes in %.0f versions (%.0f files in the "
	    "trash), %.0f unique chunks; %.0f bytes stored, %.0f on disk",
	    logical, versions, trash, unique, stored, disk);
	if (stored > 0)
		printf("; %.2fx dedup", logical * g->ring->replicas / stored);
	printf("\n");
	return finish_stdout(bad ? EXIT_FAIL : 0);
}
