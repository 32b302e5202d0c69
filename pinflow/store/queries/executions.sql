-- Named queries of the executions repository: executions and their work: histories, invocations, timers, watches, Map Runs, references they hold.

-- name: exec_insert
INSERT INTO executions (arn, seq, machine, name, type, status, revision_id, version_arn, alias_arn, role_arn,
                        input, output, error, cause, started_at, stopped_at, state, pins, trace_header)
VALUES (:arn, :seq, :machine, :name, :type, :status, :revision_id, :version_arn, :alias_arn, :role_arn,
        :input, :output, :error, :cause, :started_at, :stopped_at, :state, :pins, :trace_header);

-- name: exec_get
SELECT arn, seq, machine, name, type, status, revision_id, version_arn, alias_arn, role_arn, input, output, error,
       cause, started_at, stopped_at, redrive_count, redrive_date, trace_header, map_run, state, pins
FROM executions WHERE arn = :arn;

-- name: exec_describe
-- An execution as DescribeExecution shows it: its row without the interpreter's state and the pins
-- (read at every poll; the state of a long execution is the largest column).
SELECT arn, seq, machine, name, type, status, revision_id, version_arn, alias_arn, role_arn, input, output, error,
       cause, started_at, stopped_at, redrive_count, redrive_date, trace_header, map_run
FROM executions WHERE arn = :arn;

-- name: exec_get_for_update
-- What a step reads of its execution (not the input or output: a step never needs them).
SELECT status, revision_id, version_arn, role_arn, state, pins FROM executions WHERE arn = :arn FOR UPDATE;

-- name: exec_by_name
SELECT arn, status, input, started_at FROM executions WHERE machine = :machine AND name = :name;

-- name: exec_save
UPDATE executions SET status = :status, state = :state, output = :output, error = :error, cause = :cause,
                      stopped_at = :stopped_at
WHERE arn = :arn;

-- name: exec_redriven
UPDATE executions SET redrive_count = redrive_count + 1, redrive_date = :at WHERE arn = :arn;

-- name: exec_list
SELECT arn, machine, name, status, started_at, stopped_at, version_arn, alias_arn, redrive_count, redrive_date
FROM executions
WHERE machine = :machine AND (CAST(:status AS TEXT) IS NULL OR status = :status)
  AND (CAST(:version_arn AS TEXT) IS NULL OR version_arn = :version_arn)
  AND (CAST(:alias_arn AS TEXT) IS NULL OR alias_arn = :alias_arn)
  AND (CAST(:redriven AS INTEGER) IS NULL OR (CASE WHEN redrive_count > 0 THEN 1 ELSE 0 END) = :redriven)
  AND seq < :before
ORDER BY seq DESC
LIMIT :limit;

-- name: exec_seq
SELECT seq FROM executions WHERE arn = :arn;

-- name: exec_running_for_machine
SELECT arn FROM executions WHERE machine = :machine AND status = 'RUNNING';

-- name: exec_running_by_machine
SELECT machine, COUNT(*) AS running FROM executions WHERE status = 'RUNNING' GROUP BY machine;

-- name: exec_running_by_version
SELECT version_arn, COUNT(*) AS running FROM executions WHERE machine = :machine AND status = 'RUNNING'
GROUP BY version_arn;

-- name: exec_running_count
SELECT COUNT(*) FROM executions WHERE machine = :machine AND status = 'RUNNING';

-- name: refs_insert
INSERT INTO execution_refs (execution, ref) VALUES (:execution, :ref) ON CONFLICT DO NOTHING;

-- name: refs_delete
DELETE FROM execution_refs WHERE execution = :execution;

-- name: refs_release_expired
DELETE FROM execution_refs WHERE execution IN (
    SELECT arn FROM executions WHERE status IN ('FAILED', 'TIMED_OUT', 'ABORTED') AND stopped_at < :stopped_before);

-- name: refs_exact
SELECT execution, ref FROM execution_refs WHERE ref = :ref ORDER BY execution;

-- name: refs_like
SELECT execution, ref FROM execution_refs WHERE ref LIKE :pattern ESCAPE '!' ORDER BY execution;

-- name: refs_of_service
SELECT execution, ref FROM execution_refs WHERE ref LIKE :prefix ORDER BY execution;

-- name: history_insert
-- Consecutive events: their JSON texts one per line, ids first_id to last_id.
INSERT INTO history_blocks (execution, first_id, last_id, events) VALUES (:execution, :first_id, :last_id, :events);

-- name: history_blocks_between
-- The blocks holding events `start` to `stop`, oldest first: from the block holding event `start` (ids
-- have no gaps: the last block beginning at or before it), skipping a block that ends before it.
SELECT first_id, events FROM history_blocks
WHERE execution = :execution AND first_id <= :stop AND last_id >= :start AND first_id >= COALESCE(
    (SELECT MAX(first_id) FROM history_blocks WHERE execution = :execution AND first_id <= :start), 0)
ORDER BY first_id ASC;

-- name: history_last_id
SELECT last_id FROM history_blocks WHERE execution = :execution ORDER BY first_id DESC LIMIT 1;

-- name: timer_upsert
INSERT INTO timers (execution, timer_id, due_at) VALUES (:execution, :timer_id, :due_at)
ON CONFLICT (execution, timer_id) DO UPDATE SET due_at = excluded.due_at, lease_owner = NULL, lease_until = NULL;

-- name: timer_delete
DELETE FROM timers WHERE execution = :execution AND timer_id = :timer_id;

-- name: timer_consume
DELETE FROM timers WHERE execution = :execution AND timer_id = :timer_id AND due_at = :due_at;

-- name: timer_rearm
UPDATE timers SET due_at = :due_at, lease_owner = NULL, lease_until = NULL
WHERE execution = :execution AND timer_id = :timer_id;

-- name: timers_due
SELECT execution, timer_id, due_at FROM timers
WHERE due_at <= :due_by AND (lease_until IS NULL OR lease_until < :expired_by)
ORDER BY due_at LIMIT :limit;

-- name: timers_claim
-- Due timers no live node holds, for this node.
UPDATE timers SET lease_owner = :owner, lease_until = :until
WHERE (execution, timer_id) IN (
    SELECT execution, timer_id FROM timers WHERE due_at <= :due_by AND (lease_until IS NULL OR lease_until < :expired_by)
    ORDER BY due_at LIMIT :limit FOR UPDATE SKIP LOCKED)
RETURNING execution, timer_id, due_at;

-- name: timers_release
UPDATE timers SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = :owner;

-- name: timers_release_all
UPDATE timers SET lease_owner = NULL, lease_until = NULL WHERE lease_until IS NOT NULL;

-- name: timers_next_due
SELECT MIN(due_at) FROM timers;

-- name: outbox_insert
INSERT INTO outbox (execution, task_id, command, token, activity, claimed_at, created_at, lease_owner, lease_until,
                    lease_token)
VALUES (:execution, :task_id, :command, :token, :activity, NULL, :created_at, :lease_owner, :lease_until, 1);

-- name: outbox_consume
DELETE FROM outbox WHERE execution = :execution AND task_id = :task_id;

-- name: outbox_consume_fenced
-- A task result, from the invocation made under lease token `lease_token`: dropped if another node
-- has claimed the row since.
DELETE FROM outbox WHERE execution = :execution AND task_id = :task_id AND lease_token = :lease_token;

-- name: outbox_claim_expired
-- Invocations whose lease expired by `expired_by` (or that were let go), for this node; not those of
-- `other_than` (its own queue: '' for none).
UPDATE outbox SET lease_owner = :owner, lease_until = :until, lease_token = lease_token + 1
WHERE (execution, task_id) IN (
    SELECT execution, task_id FROM outbox
    WHERE lease_until < :expired_by AND (lease_owner IS NULL OR lease_owner <> :other_than)
    ORDER BY lease_until LIMIT :limit FOR UPDATE SKIP LOCKED)
RETURNING execution, task_id, command, lease_token;

-- name: outbox_claim_start
-- At the start of a node: expired invocations, and those its own earlier process held (a node id names
-- one process at a time), for this node.
UPDATE outbox SET lease_owner = :owner, lease_until = :until, lease_token = lease_token + 1
WHERE (execution, task_id) IN (
    SELECT execution, task_id FROM outbox
    WHERE lease_until < :expired_by OR (lease_owner = :owner AND lease_until IS NOT NULL)
    ORDER BY lease_until LIMIT :limit FOR UPDATE SKIP LOCKED)
RETURNING execution, task_id, command, lease_token;

-- name: outbox_renew_one
-- One invocation a worker of this node runs, unless a write in progress holds its row.
UPDATE outbox SET lease_until = :until
WHERE (execution, task_id) IN (
    SELECT execution, task_id FROM outbox
    WHERE execution = :execution AND task_id = :task_id AND lease_owner = :owner AND lease_token = :lease_token
    AND lease_until IS NOT NULL FOR UPDATE SKIP LOCKED);

-- name: outbox_reclaim
-- A worker starts an invocation that waited in the queue of its node for a while: renewed only if still
-- held by this node under the same token, as another node may have taken it meanwhile.
UPDATE outbox SET lease_until = :until
WHERE execution = :execution AND task_id = :task_id AND lease_owner = :owner AND lease_token = :lease_token
  AND lease_until IS NOT NULL;

-- name: outbox_renew
-- The invocations of this node, except rows a write in progress holds (it consumes them).
UPDATE outbox SET lease_until = :until
WHERE (execution, task_id) IN (
    SELECT execution, task_id FROM outbox WHERE lease_owner = :owner AND lease_until IS NOT NULL
    FOR UPDATE SKIP LOCKED);

-- name: outbox_get
SELECT execution, task_id, lease_owner, lease_token FROM outbox WHERE execution = :execution AND task_id = :task_id;

-- name: outbox_held
SELECT execution, task_id FROM outbox WHERE lease_owner = :owner AND lease_until IS NOT NULL;

-- name: outbox_release_one
UPDATE outbox SET lease_owner = NULL, lease_until = 0
WHERE execution = :execution AND task_id = :task_id AND lease_owner = :owner AND lease_until IS NOT NULL;

-- name: outbox_release
UPDATE outbox SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = :owner AND lease_until IS NOT NULL;

-- name: outbox_mark_claimed
-- The call was made (a callback or a watched task): no node has more to do for the row; the token is the
-- lease token of the invocation (the call is not counted if another node holds the row by now).
UPDATE outbox SET claimed_at = :at, lease_until = NULL
WHERE execution = :execution AND task_id = :task_id AND lease_token = :lease_token;

-- name: outbox_by_token
SELECT execution, task_id, command, activity, claimed_at FROM outbox WHERE token = :token;

-- name: outbox_next_activity_task
SELECT execution, task_id, command, token FROM outbox WHERE activity = :activity AND claimed_at IS NULL
ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED;

-- name: outbox_claim_activity_task
UPDATE outbox SET claimed_at = :at, lease_owner = :owner
WHERE execution = :execution AND task_id = :task_id AND claimed_at IS NULL;

-- name: node_seen
INSERT INTO nodes (id, started_at, seen_at, lease_seconds) VALUES (:id, :now, :now, :lease_seconds)
ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at, lease_seconds = excluded.lease_seconds;

-- name: node_gone
DELETE FROM nodes WHERE id = :id;

-- name: nodes_others_alive
-- How many nodes other than `id` said they were alive within their lease.
SELECT COUNT(*) FROM nodes WHERE id <> :id AND seen_at + lease_seconds >= :now;

-- name: nodes_forget_dead
-- Nodes not seen for ten of their leases (killed): their work was taken over long ago.
DELETE FROM nodes WHERE seen_at + 10 * lease_seconds < :now;

-- name: running_gate
-- The gate of `function`'s reserved concurrency (its row of node ''), made if missing and locked until
-- the transaction ends: nodes admit its invocations one at a time.
INSERT INTO function_running (function, node, running) VALUES (:function, '', 0)
ON CONFLICT (function, node) DO UPDATE SET running = 0 WHERE 1 = 0;

-- name: running_alive
-- How many invocations of `function` the nodes alive within their lease at `now` run, `node` (the one
-- asking, which knows it is alive) counted whatever its row says.
SELECT COALESCE(SUM(r.running), 0) FROM function_running r LEFT JOIN nodes n ON n.id = r.node
WHERE r.function = :function AND r.node <> '' AND (r.node = :node OR n.seen_at + n.lease_seconds >= :now);

-- name: running_add
INSERT INTO function_running (function, node, running) VALUES (:function, :node, 1)
ON CONFLICT (function, node) DO UPDATE SET running = function_running.running + 1;

-- name: running_done
UPDATE function_running SET running = running - 1 WHERE function = :function AND node = :node AND running > 0;

-- name: running_forget_node
-- A node starting or stopping runs nothing: what its earlier process counted goes.
DELETE FROM function_running WHERE node = :node;

-- name: running_forget_dead
-- The counts of nodes forgotten (`nodes_forget_dead`).
DELETE FROM function_running WHERE node <> '' AND node NOT IN (SELECT id FROM nodes);

-- name: maprun_insert
INSERT INTO map_runs (arn, execution, run_id, seq, machine, block, execution_type, writes_results, status,
                      max_concurrency, tolerated_count, tolerated_percentage, total, item_total, started_at)
VALUES (:arn, :execution, :run_id, :seq, :machine, :block, :execution_type, :writes_results, 'RUNNING',
        :max_concurrency, :tolerated_count, :tolerated_percentage, :total, :item_total, :started_at);

-- name: maprun_get
SELECT arn, execution, run_id, seq, machine, block, execution_type, writes_results, status, max_concurrency,
       tolerated_count, tolerated_percentage, total, started, succeeded, failed, timed_out, aborted, item_total,
       item_started, item_succeeded, item_failed, item_timed_out, item_aborted, pending_redrive,
       item_pending_redrive, error, cause, redrive_count, redrive_date, started_at, stopped_at
FROM map_runs WHERE arn = :arn;

-- name: maprun_get_for_update
SELECT arn, execution, run_id, seq, machine, block, execution_type, writes_results, status, max_concurrency,
       tolerated_count, tolerated_percentage, total, started, succeeded, failed, timed_out, aborted, item_total,
       item_started, item_succeeded, item_failed, item_timed_out, item_aborted, pending_redrive,
       item_pending_redrive, error, cause, redrive_count, redrive_date, started_at, stopped_at
FROM map_runs WHERE arn = :arn FOR UPDATE;

-- name: maprun_by_run_id
SELECT arn, execution, run_id, seq, machine, block, execution_type, writes_results, status, max_concurrency,
       tolerated_count, tolerated_percentage, total, started, succeeded, failed, timed_out, aborted, item_total,
       item_started, item_succeeded, item_failed, item_timed_out, item_aborted, pending_redrive,
       item_pending_redrive, error, cause, redrive_count, redrive_date, started_at, stopped_at
FROM map_runs WHERE execution = :execution AND run_id = :run_id;

-- name: maprun_list
SELECT arn, execution, machine, block, status, started_at, stopped_at, seq FROM map_runs
WHERE execution = :execution AND seq < :before ORDER BY seq DESC LIMIT :limit;

-- name: maprun_started
UPDATE map_runs SET started = started + 1, item_started = item_started + :weight WHERE arn = :arn;

-- name: maprun_child_ended
UPDATE map_runs SET succeeded = succeeded + :succeeded, failed = failed + :failed, timed_out = timed_out + :timed_out,
                    aborted = aborted + :aborted, item_succeeded = item_succeeded + :item_succeeded,
                    item_failed = item_failed + :item_failed, item_timed_out = item_timed_out + :item_timed_out,
                    item_aborted = item_aborted + :item_aborted
WHERE arn = :arn;

-- name: maprun_end
UPDATE map_runs SET status = :status, error = :error, cause = :cause, stopped_at = :stopped_at
WHERE arn = :arn AND status = 'RUNNING';

-- name: maprun_update
UPDATE map_runs SET max_concurrency = :max_concurrency, tolerated_count = :tolerated_count,
                    tolerated_percentage = :tolerated_percentage
WHERE arn = :arn;

-- name: maprun_item_insert
INSERT INTO map_run_items (map_run, idx, input, weight) VALUES (:map_run, :idx, :input, :weight);

-- name: maprun_item_get
SELECT input, weight FROM map_run_items WHERE map_run = :map_run AND idx = :idx;

-- name: maprun_item_started
UPDATE map_run_items SET execution = :execution WHERE map_run = :map_run AND idx = :idx AND execution IS NULL;

-- name: maprun_item_counted_status
SELECT status FROM map_run_items WHERE map_run = :map_run AND idx = :idx;

-- name: maprun_item_counted
UPDATE map_run_items SET status = :status WHERE map_run = :map_run AND idx = :idx;

-- name: maprun_unsuccessful_items
SELECT COUNT(*) AS n, SUM(weight) AS weight FROM map_run_items
WHERE map_run = :map_run AND status IN ('FAILED', 'TIMED_OUT', 'ABORTED');

-- name: maprun_items_await_redrive
UPDATE map_run_items SET status = 'REDRIVE'
WHERE map_run = :map_run AND status IN ('FAILED', 'TIMED_OUT', 'ABORTED');

-- name: maprun_await_redrive
UPDATE map_runs SET started = started - :count, item_started = item_started - :weight,
                    pending_redrive = pending_redrive + :count, item_pending_redrive = item_pending_redrive + :weight
WHERE arn = :arn;

-- name: maprun_items_to_redrive
SELECT idx, execution, weight FROM map_run_items WHERE map_run = :map_run AND status = 'REDRIVE'
ORDER BY idx LIMIT :limit;

-- name: maprun_item_redrive_started
UPDATE map_run_items SET status = NULL WHERE map_run = :map_run AND idx = :idx;

-- name: maprun_redrive_started
UPDATE map_runs SET started = started + 1, item_started = item_started + :weight, pending_redrive = pending_redrive - 1,
                    item_pending_redrive = item_pending_redrive - :weight
WHERE arn = :arn;

-- name: maprun_outcomes
SELECT i.idx, COALESCE(e.status, i.status) AS status, COALESCE(e.output, i.output) AS output,
       COALESCE(e.error, i.error) AS error, COALESCE(e.cause, i.cause) AS cause
FROM map_run_items i LEFT JOIN executions e ON e.arn = i.execution
WHERE i.map_run = :map_run AND i.execution IS NOT NULL ORDER BY i.idx;

-- name: maprun_running_children
SELECT arn FROM executions WHERE map_run = :map_run AND status = 'RUNNING' ORDER BY seq LIMIT :limit;

-- name: exec_set_map_run
UPDATE executions SET map_run = :map_run WHERE arn = :arn;

-- name: exec_list_by_map_run
SELECT arn, machine, name, status, started_at, stopped_at, version_arn, alias_arn, redrive_count, redrive_date
FROM executions
WHERE map_run = :map_run AND (CAST(:status AS TEXT) IS NULL OR status = :status)
  AND (CAST(:redriven AS INTEGER) IS NULL OR (CASE WHEN redrive_count > 0 THEN 1 ELSE 0 END) = :redriven)
  AND seq < :before
ORDER BY seq DESC
LIMIT :limit;

-- name: maprun_running
-- Runs to move on at start-up: those running, and those ended early with children still running.
SELECT arn FROM map_runs WHERE status = 'RUNNING'
UNION
SELECT DISTINCT map_run AS arn FROM executions WHERE status = 'RUNNING' AND map_run IS NOT NULL;

-- name: maprun_children
SELECT i.idx, i.execution AS arn, COALESCE(e.status, i.status) AS status, i.input,
       COALESCE(e.output, i.output) AS output, COALESCE(e.error, i.error) AS error,
       COALESCE(e.cause, i.cause) AS cause, COALESCE(e.started_at, i.started_at) AS started_at,
       COALESCE(e.stopped_at, i.stopped_at) AS stopped_at, COALESCE(e.redrive_count, 0) AS redrive_count
FROM map_run_items i LEFT JOIN executions e ON e.arn = i.execution
WHERE i.map_run = :map_run AND i.execution IS NOT NULL ORDER BY i.idx;

-- name: maprun_pending_items
SELECT idx, input FROM map_run_items WHERE map_run = :map_run AND execution IS NULL ORDER BY idx;

-- name: maprun_redriven
UPDATE map_runs SET status = 'RUNNING', error = NULL, cause = NULL, stopped_at = NULL, failed = 0, timed_out = 0,
                    aborted = 0, item_failed = 0, item_timed_out = 0, item_aborted = 0,
                    redrive_count = redrive_count + 1, redrive_date = :at
WHERE arn = :arn AND status IN ('FAILED', 'ABORTED');

-- name: maprun_express_first_started
UPDATE map_run_items SET execution = :execution, started_at = :started_at
WHERE map_run = :map_run AND idx = :idx AND execution IS NULL;

-- name: maprun_express_started
UPDATE map_run_items SET execution = :execution, started_at = :started_at WHERE map_run = :map_run AND idx = :idx;

-- name: maprun_express_ended
UPDATE map_run_items SET status = :status, output = :output, error = :error, cause = :cause, stopped_at = :stopped_at
WHERE map_run = :map_run AND idx = :idx AND execution = :execution AND status IS NULL;

-- name: maprun_express_failed
SELECT idx, execution, input, weight FROM map_run_items
WHERE map_run = :map_run AND status IN ('FAILED', 'TIMED_OUT', 'ABORTED') ORDER BY idx;

-- name: maprun_express_retry
UPDATE map_run_items SET status = NULL, output = NULL, error = NULL, cause = NULL, stopped_at = NULL
WHERE map_run = :map_run AND idx = :idx;

-- name: watch_insert
INSERT INTO task_watches (execution, task_id, integration, target, detail, check_at)
VALUES (:execution, :task_id, :integration, :target, :detail, :check_at)
ON CONFLICT (execution, task_id) DO NOTHING;

-- name: watch_get
SELECT execution, task_id, integration, target, detail, check_at, cancelled FROM task_watches
WHERE execution = :execution AND task_id = :task_id;

-- name: watch_delete
DELETE FROM task_watches WHERE execution = :execution AND task_id = :task_id;

-- name: watch_cancel
UPDATE task_watches SET cancelled = 1, check_at = :check_at WHERE execution = :execution AND task_id = :task_id;

-- name: watch_reschedule
-- The time of the next look, set as a look starts (the claim on the row is kept).
UPDATE task_watches SET check_at = :check_at WHERE execution = :execution AND task_id = :task_id;

-- name: watch_rearm
-- A look found the watched thing still running: the time of the next look, for any node.
UPDATE task_watches SET check_at = :check_at, lease_owner = NULL, lease_until = NULL
WHERE execution = :execution AND task_id = :task_id;

-- name: watches_due
SELECT execution, task_id FROM task_watches
WHERE check_at <= :due_by AND (lease_until IS NULL OR lease_until < :expired_by) LIMIT 1;

-- name: watches_claim
-- Watches due for a look that no live node holds, for this node.
UPDATE task_watches SET lease_owner = :owner, lease_until = :until
WHERE (execution, task_id) IN (
    SELECT execution, task_id FROM task_watches
    WHERE check_at <= :due_by AND (lease_until IS NULL OR lease_until < :expired_by)
    ORDER BY check_at LIMIT :limit FOR UPDATE SKIP LOCKED)
RETURNING execution, task_id, integration, target, detail, check_at, cancelled;

-- name: watch_unclaim
-- A look that failed: the row is due again at its next check, for any node.
UPDATE task_watches SET lease_owner = NULL, lease_until = NULL
WHERE execution = :execution AND task_id = :task_id AND lease_owner = :owner;

-- name: watches_release
UPDATE task_watches SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = :owner;

-- name: maprun_express_lease
UPDATE map_run_items SET lease_owner = :owner, lease_until = :until WHERE map_run = :map_run AND idx = :idx;

-- name: maprun_express_claimable
SELECT idx, execution, input, weight FROM map_run_items
WHERE map_run = :map_run AND execution IS NOT NULL AND status IS NULL AND (lease_until IS NULL OR lease_until < :now)
ORDER BY idx FOR UPDATE SKIP LOCKED;

-- name: maprun_express_expired
-- Unfinished Express children of running Map Runs whose node's lease expired.
SELECT map_run, idx, execution, input, weight FROM map_run_items
WHERE lease_until IS NOT NULL AND status IS NULL AND lease_until < :now AND execution IS NOT NULL
  AND map_run IN (SELECT arn FROM map_runs WHERE status = 'RUNNING')
ORDER BY lease_until LIMIT :limit FOR UPDATE SKIP LOCKED;

-- name: maprun_express_renew
-- The Express children this node runs, except rows a write in progress holds (it records their end).
UPDATE map_run_items SET lease_until = :until
WHERE (map_run, idx) IN (
    SELECT map_run, idx FROM map_run_items WHERE lease_owner = :owner AND lease_until IS NOT NULL
    AND status IS NULL FOR UPDATE SKIP LOCKED);

-- name: maprun_express_unlease
-- Children of a run that ended meanwhile: no node has anything more to do for them.
UPDATE map_run_items SET lease_owner = NULL, lease_until = NULL WHERE map_run = :map_run AND idx = :idx;

-- name: maprun_express_release
UPDATE map_run_items SET lease_until = 0
WHERE lease_owner = :owner AND lease_until IS NOT NULL AND status IS NULL;
