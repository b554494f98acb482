/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Selective acknowledgment, the sender's half: the scoreboard of what the
 * peer holds beyond SND.UNA (RFC 2018), and loss recovery driven by it
 * (RFC 6675: IsLost, the pipe estimate, NextSeg). The receiver's half
 * (which blocks our ACKs report) is in tcp_output.c and tcp_input.c.
 *
 * The scoreboard is a short sorted array of disjoint ranges rather than a
 * per-segment list: a peer reports at most four blocks an ACK, and every
 * question RFC 6675 asks (is this byte lost, how much is in the network,
 * where is the next hole) becomes a walk over a few ranges. The walks are
 * bounded by TCP_SACK_BOARD, whatever the peer sends.
 *
 * Two additions to RFC 6675, both within what it leaves open:
 *  - A resent hole is known lost again once data sent after it is SACKed
 *    (send order, as RFC 8985 §6.2 reasons), and is resent without waiting
 *    for the retransmission timer.
 *  - After a timeout the scoreboard is kept (RFC 6675 §5.1 asks the sender
 *    to use SACK information in the slow start that follows) and the
 *    recovery goes on from SND.UNA with every hole counted lost, as one
 *    recovery up to the RecoveryPoint the timeout set. RFC 2018 §8 warns
 *    that a receiver may discard what it SACKed: an ACK that stops at the
 *    start of a SACKed range shows it did, and the board is cleared.
 */
#include <string.h>

#include "tcp_priv.h"

static struct dtcp_sackb *
board_get(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	struct dtcp_sackb *b;

	if (c->sackb != NULL)
		return c->sackb;
	if (w->tcp->sackbs == NULL || rte_mempool_get(w->tcp->sackbs, (void **)&b) != 0) {
		ctr_inc(w, DTCP_CTR_tcp_sack_no_board);
		return NULL;
	}
	b->n = 0;
	b->nrx = 0;
	c->sackb = b;
	return b;
}

void
tcp_sack_free(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	if (c->sackb == NULL)
		return;
	rte_mempool_put(w->tcp->sackbs, c->sackb);
	c->sackb = NULL;
}

/* Add [a, b) to the board, joining ranges it overlaps or touches. True when it covers a byte not SACKed before. */
static bool
board_add(struct dtcp_sackb *sb, uint32_t a, uint32_t b)
{
	struct dtcp_sack_range *r = sb->r;
	unsigned i = 0, j, n = sb->n;
	uint32_t ns = a, ne = b;

	while (i < n && seq_lt(r[i].end, a))
		i++;
	if (i < n && seq_leq(r[i].start, a) && seq_geq(r[i].end, b))
		return false;
	for (j = i; j < n && seq_leq(r[j].start, b); j++) {
		if (seq_lt(r[j].start, ns))
			ns = r[j].start;
		if (seq_gt(r[j].end, ne))
			ne = r[j].end;
	}
	if (j == i) {
		if (n == TCP_SACK_BOARD) {
			if (i == n)
				return true;
			n--;
		}
		memmove(&r[i + 1], &r[i], (n - i) * sizeof(r[0]));
		n++;
	} else {
		memmove(&r[i + 1], &r[j], (n - j) * sizeof(r[0]));
		n -= j - i - 1;
	}
	r[i].start = ns;
	r[i].end = ne;
	sb->n = (uint8_t)n;
	return true;
}

static bool
board_has(const struct dtcp_sackb *sb, uint32_t seq)
{
	for (unsigned k = 0; k < sb->n; k++)
		if (seq_geq(seq, sb->r[k].start) && seq_lt(seq, sb->r[k].end))
			return true;
	return false;
}

/*
 * Resends that data sent after them overtook: lost too. HighRxt goes back
 * to the lowest of them, so NextSeg() offers the hole again.
 */
static void
rexmit_check(struct dtcp_worker *w, struct dtcp_tcb *c, struct dtcp_sackb *sb)
{
	uint32_t high_sacked = sb->n > 0 ? sb->r[sb->n - 1].end : c->snd_una;
	unsigned i, k = 0;

	for (i = 0; i < sb->nrx; i++) {
		uint32_t seq = sb->rx[i].seq;

		if (seq_lt(seq, c->snd_una) || board_has(sb, seq))
			continue; /* delivered */
		if (c->sack_recovery && seq_gt(high_sacked, sb->rx[i].mark)) {
			ctr_inc(w, DTCP_CTR_tcp_sack_rexmit_lost);
			if (seq_lt(seq, c->high_rxt))
				c->high_rxt = seq;
			continue;
		}
		sb->rx[k++] = sb->rx[i];
	}
	sb->nrx = (uint8_t)k;
}

bool
tcp_sack_update(struct dtcp_worker *w, struct dtcp_tcb *c, const struct dtcp_seg *s)
{
	struct dtcp_sackb *sb = c->sackb;
	bool news = false;

	for (unsigned i = 0; i < s->opt.n_sack; i++) {
		uint32_t a = s->opt.sack[i][0], b = s->opt.sack[i][1];

		/* RFC 2018 §3: a block is the peer's data; one we never sent, or
		 * empty, is no report. At or below SND.UNA it says nothing new
		 * (a D-SACK, RFC 2883, or an old ACK). */
		if (!seq_lt(a, b) || seq_gt(b, c->snd_max)) {
			ctr_inc(w, DTCP_CTR_tcp_sack_bad_block);
			continue;
		}
		if (seq_leq(b, c->snd_una) || seq_leq(b, s->ack)) {
			ctr_inc(w, DTCP_CTR_tcp_sack_old_block);
			continue;
		}
		if (seq_lt(a, c->snd_una))
			a = c->snd_una;
		if (sb == NULL && (sb = board_get(w, c)) == NULL)
			return false;
		if (board_add(sb, a, b))
			news = true;
	}
	if (news) {
		ctr_inc(w, DTCP_CTR_tcp_sack_news_rx);
		rexmit_check(w, c, sb);
	}
	return news;
}

void
tcp_sack_trim(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	struct dtcp_sackb *sb = c->sackb;
	unsigned i = 0;

	if (sb == NULL)
		return;
	if (c->snd_una == c->snd_max && !c->in_recovery) {
		tcp_sack_free(w, c);
		return;
	}
	while (i < sb->n && seq_leq(sb->r[i].end, c->snd_una))
		i++;
	if (i > 0) {
		memmove(&sb->r[0], &sb->r[i], (sb->n - i) * sizeof(sb->r[0]));
		sb->n = (uint8_t)(sb->n - i);
	}
	if (sb->n > 0 && seq_leq(sb->r[0].start, c->snd_una)) {
		/* The cumulative ACK stopped where SACKed data begins: the peer
		 * threw that data away (RFC 2018 §8). Believe nothing it SACKed. */
		ctr_inc(w, DTCP_CTR_tcp_sack_reneged);
		sb->n = 0;
		sb->nrx = 0;
	}
}

bool
tcp_sack_rto(struct dtcp_tcb *c)
{
	if (c->sackb == NULL)
		return false;
	c->sackb->nrx = 0;
	c->high_rxt = c->snd_una;
	c->in_recovery = true;
	c->sack_recovery = true;
	c->rto_recovery = true;
	c->holes_lost = true;
	return true;
}

/*
 * RFC 6675 IsLost(seq): DupThresh discontiguous SACKed ranges above seq,
 * or more than (DupThresh - 1) * SMSS SACKed bytes above it.
 */
bool
tcp_sack_is_lost(const struct dtcp_tcb *c, uint32_t seq)
{
	const struct dtcp_sackb *sb = c->sackb;
	uint32_t bytes = 0, count = 0;

	if (sb == NULL)
		return false;
	for (unsigned k = sb->n; k-- > 0;) {
		const struct dtcp_sack_range *r = &sb->r[k];

		if (seq_leq(r->end, seq))
			break;
		if (seq_geq(seq, r->start))
			return false; /* SACKed itself */
		bytes += r->end - r->start;
		count++;
		if (count >= TCP_DUPTHRESH || bytes > (TCP_DUPTHRESH - 1u) * c->cc.mss)
			return true;
	}
	return false;
}

/*
 * IsLost is monotone: a byte with enough SACKed above it has as much above
 * every byte below it. So the lost holes are exactly those below one edge,
 * the start of the range where the count from the top is first enough.
 * After a timeout every hole is lost.
 */
static uint32_t
lost_edge(const struct dtcp_tcb *c)
{
	const struct dtcp_sackb *sb = c->sackb;
	uint32_t bytes = 0, count = 0;

	if (c->holes_lost)
		return c->snd_max;
	for (unsigned k = sb->n; k-- > 0;) {
		bytes += sb->r[k].end - sb->r[k].start;
		count++;
		if (count >= TCP_DUPTHRESH || bytes > (TCP_DUPTHRESH - 1u) * c->cc.mss)
			return sb->r[k].start;
	}
	return c->snd_una;
}

/* SACKed bytes in [a, b). */
static uint32_t
sacked_in(const struct dtcp_sackb *sb, uint32_t a, uint32_t b)
{
	uint32_t sum = 0;

	for (unsigned k = 0; k < sb->n; k++) {
		uint32_t s = seq_max(sb->r[k].start, a);
		uint32_t e = seq_lt(sb->r[k].end, b) ? sb->r[k].end : b;

		if (seq_lt(s, e))
			sum += e - s;
	}
	return sum;
}

/*
 * RFC 6675 SetPipe(): every byte in flight not SACKed counts once unless
 * lost, and once more if it was retransmitted (below HighRxt).
 */
static uint32_t
sack_pipe(const struct dtcp_tcb *c, uint32_t lost)
{
	const struct dtcp_sackb *sb = c->sackb;
	uint32_t from = seq_max(lost, c->snd_una);
	uint32_t pipe = c->snd_max - from - sacked_in(sb, from, c->snd_max);

	if (seq_gt(c->high_rxt, c->snd_una)) {
		uint32_t hr = seq_lt(c->high_rxt, c->snd_max) ? c->high_rxt : c->snd_max;

		pipe += hr - c->snd_una - sacked_in(sb, c->snd_una, hr);
	}
	return pipe;
}

uint32_t
tcp_sack_skip(const struct dtcp_tcb *c, uint32_t seq, uint32_t *next_start, uint32_t limit)
{
	const struct dtcp_sackb *sb = c->sackb;
	unsigned k = 0, n = sb != NULL ? sb->n : 0;

	while (k < n && seq_leq(sb->r[k].end, seq))
		k++;
	if (k < n && seq_leq(sb->r[k].start, seq)) {
		seq = sb->r[k].end;
		k++;
	}
	*next_start = k < n && seq_lt(sb->r[k].start, limit) ? sb->r[k].start : limit;
	return seq;
}

static void
rexmit_note(struct dtcp_sackb *sb, uint32_t seq, uint32_t mark)
{
	unsigned i;

	for (i = 0; i < sb->nrx; i++)
		if (sb->rx[i].seq == seq)
			break;
	if (i == sb->nrx) {
		if (sb->nrx == TCP_SACK_RXT) {
			memmove(&sb->rx[0], &sb->rx[1], (TCP_SACK_RXT - 1) * sizeof(sb->rx[0]));
			i = TCP_SACK_RXT - 1;
		} else {
			sb->nrx++;
		}
	}
	sb->rx[i].seq = seq;
	sb->rx[i].mark = mark;
}

void
tcp_sack_note_rexmit(struct dtcp_tcb *c, uint32_t seq)
{
	if (c->sackb != NULL)
		rexmit_note(c->sackb, seq, c->snd_max);
}

/*
 * RFC 6675 §5 step (C): while cwnd - pipe >= 1 SMSS, send what NextSeg()
 * names: (1) the first lost hole above HighRxt, (2) new data, (3) the
 * first hole above HighRxt with SACKed data beyond it, (4) once, the
 * rescue: the highest unSACKed segment. Bounded: each pass sends a
 * segment or stops.
 */
bool
tcp_sack_output(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	struct dtcp_sackb *sb = c->sackb;
	uint32_t data_end = c->snd_q_seq + c->snd_q_bytes;
	uint32_t mss = tcp_seg_room(c);
	uint32_t lost = lost_edge(c);
	uint32_t pipe = sack_pipe(c, lost);
	uint32_t high_sacked = sb->n > 0 ? sb->r[sb->n - 1].end : c->snd_una;
	bool sent = false;

	if (c->holes_lost)
		high_sacked = c->snd_max;
	for (unsigned budget = 256; budget > 0; budget--) {
		uint32_t from = seq_max(c->high_rxt, c->snd_una);
		uint32_t next, hole = tcp_sack_skip(c, from, &next, c->snd_max);
		bool rexmit;
		uint32_t len;

		if (pipe + mss > c->cc.cwnd)
			break;
		rexmit = seq_lt(hole, lost) && seq_lt(hole, high_sacked);
		if (!rexmit) {
			/* Rule 2: new data, as the peer's window allows. */
			uint32_t wnd_end = c->snd_una + c->snd_wnd;

			if (c->snd_nxt == c->snd_max && seq_lt(c->snd_nxt, wnd_end) &&
			    (seq_lt(c->snd_nxt, data_end) ||
			     (c->fin_queued && c->snd_nxt == data_end))) {
				uint32_t before = c->snd_nxt;

				if (!tcp_send_new(w, c, RTE_MIN(mss, wnd_end - c->snd_nxt)))
					break;
				c->snd_max = seq_max(c->snd_max, c->snd_nxt);
				pipe += c->snd_nxt - before;
				sent = true;
				continue;
			}
			/* Rule 3: a hole not yet judged lost, with SACKed data above. */
			rexmit = seq_lt(hole, high_sacked);
		}
		if (!rexmit) {
			/* Rule 4, the rescue: once per recovery (per cumulative ACK
			 * past the last rescue), the highest unSACKed segment again,
			 * for a loss at the tail that nothing above it can show.
			 * HighRxt stays. */
			uint32_t top = seq_lt(c->snd_max, data_end) ? c->snd_max : data_end;
			uint32_t from_top;

			if (c->rescue_ok && !seq_gt(c->snd_una, c->rescue_rxt))
				break;
			if (!seq_lt(high_sacked, top) || !seq_lt(hole, top))
				break;
			from_top = RTE_MIN(top - seq_max(hole, high_sacked), mss);
			if (!tcp_send_old(w, c, top - from_top, from_top))
				break;
			ctr_inc(w, DTCP_CTR_tcp_sack_rescue);
			c->rescue_ok = true;
			c->rescue_rxt = c->recover;
			pipe += from_top;
			sent = true;
			break;
		}
		len = RTE_MIN(next - hole, mss);
		if (seq_lt(hole, data_end) && seq_gt(hole + len, data_end))
			len = data_end - hole;
		if (!seq_lt(hole, data_end))
			len = 0; /* the FIN alone */
		if (!tcp_send_old(w, c, hole, len))
			break;
		ctr_inc(w, DTCP_CTR_tcp_sack_rexmit);
		rexmit_note(sb, hole, c->snd_max);
		/* The FIN, sent alone at data_end, takes a sequence number. */
		c->high_rxt = hole + (len > 0 ? len : 1);
		if (seq_gt(c->high_rxt, c->snd_nxt))
			c->snd_nxt = c->high_rxt;
		pipe += len > 0 ? len : 1;
		sent = true;
	}
	return sent;
}
