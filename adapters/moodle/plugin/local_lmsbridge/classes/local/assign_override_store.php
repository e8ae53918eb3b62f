<?php
// This file is part of Moodle - https://moodle.org/
//
// Moodle is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.
//
// Moodle is distributed in the hope that it will be useful,
// but WITHOUT ANY WARRANTY; without even the implied warranty of
// MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
// GNU General Public License for more details.
//
// You should have received a copy of the GNU General Public License
// along with Moodle.  If not, see <https://www.gnu.org/licenses/>.

namespace local_lmsbridge\local;

use cache;
use context_module;
use core_external\external_api;
use stdClass;

/**
 * Assignment overrides over web services for Moodle 4.5-5.2 (save/get/delete_assign_overrides).
 *
 * Writes the assign_overrides table the way the assign override UI (mod/assign/overrideedit.php)
 * and Moodle 5.3's mod_assign\override_manager do: the record, the group priority (sortorder),
 * the overrides cache (cache definition mod_assign/overrides, keys <assignid>_u_<userid> and
 * <assignid>_g_<groupid>), the override events (mod_assign\event\user_override_created, ...) and
 * the calendar (assign_update_events() in mod/assign/lib.php). Deletion goes through core's
 * assign::delete_override() (mod/assign/locallib.php).
 *
 * As core's quiz_save_overrides, a batch is not atomic: the overrides before a failing one are
 * saved (moodle-fixtures 27 -> 30).
 *
 * @package    local_lmsbridge
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class assign_override_store {

    /** @var stdClass assign record */
    protected $assignrecord;

    /** @var \assign the assignment */
    protected $assign;

    /** @var stdClass course module */
    protected $cm;

    /** @var context_module module context */
    protected $context;

    /**
     * Loads an assignment and checks the caller may manage its overrides.
     *
     * @param int $assignid assign id (the instance, not the course module)
     */
    public function __construct(int $assignid) {
        global $CFG, $DB;
        require_once($CFG->dirroot . '/mod/assign/lib.php');
        require_once($CFG->dirroot . '/mod/assign/locallib.php');

        $this->assignrecord = $DB->get_record('assign', ['id' => $assignid], '*', MUST_EXIST);
        $this->cm = get_coursemodule_from_instance('assign', $assignid, $this->assignrecord->course, false, MUST_EXIST);
        $this->context = context_module::instance($this->cm->id);
        external_api::validate_context($this->context);
        require_capability('mod/assign:manageoverrides', $this->context);
        $course = get_course($this->cm->course);
        $this->assign = new \assign($this->context, $this->cm, $course);
    }

    /**
     * The assignment's overrides.
     *
     * @return array[] rows for get_assign_overrides
     */
    public function get_all(): array {
        global $DB;
        $rows = [];
        $records = $DB->get_records('assign_overrides', ['assignid' => $this->assignrecord->id], 'id ASC');
        foreach ($records as $record) {
            $row = [
                'id' => (int)$record->id,
                'assignid' => (int)$record->assignid,
                'userid' => self::int_or_null($record->userid),
                'groupid' => self::int_or_null($record->groupid),
                'sortorder' => self::int_or_null($record->sortorder),
            ];
            foreach (assign_override_rules::SETTINGS as $key) {
                $row[$key] = self::int_or_null($record->$key ?? null);
            }
            $rows[] = $row;
        }
        return $rows;
    }

    /**
     * Saves overrides, in order; each is created, or replaced as a whole when it has an id.
     *
     * @param array[] $overrides override data as received
     * @return int[] the saved override ids
     */
    public function save_all(array $overrides): array {
        $ids = [];
        foreach ($overrides as $input) {
            $ids[] = $this->save((array)$input);
        }
        return $ids;
    }

    /**
     * Saves one override.
     *
     * @param array $input override data as received
     * @return int override id
     */
    protected function save(array $input): int {
        global $DB;

        $override = assign_override_rules::normalise($input, $this->assignrecord);
        if ($error = assign_override_rules::check($override, $this->assignrecord)) {
            throw util::invalid($error[0], $error[1]);
        }
        if ($override['groupid'] !== null) {
            $group = groups_get_group($override['groupid']);
            if (!$group || (int)$group->courseid !== (int)$this->cm->course) {
                throw util::invalid('overrideinvalidgroup');
            }
        }
        if ($override['userid'] !== null && !\core_user::is_real_user($override['userid'], true)) {
            throw util::invalid('overrideinvaliduser');
        }

        $existing = null;
        if ($override['id'] !== null) {
            $existing = $DB->get_record('assign_overrides', ['id' => $override['id'], 'assignid' => $this->assignrecord->id]);
            if (!$existing) {
                throw util::invalid('overrideinvalidexistingid');
            }
            if ((int)$existing->userid !== (int)$override['userid'] || (int)$existing->groupid !== (int)$override['groupid']) {
                throw util::invalid('overridecannotchange');
            }
        }

        // One override per user or group (IS NULL for the other column).
        $others = $DB->get_records('assign_overrides', [
            'assignid' => $this->assignrecord->id,
            'userid' => $override['userid'],
            'groupid' => $override['groupid'],
        ], '', 'id');
        if ($existing) {
            unset($others[$existing->id]);
        }
        if ($others) {
            throw util::invalid('overridemultiplerecordsexist');
        }

        $record = assign_override_rules::record($override, (int)$this->assignrecord->id);
        if ($existing) {
            $record->id = $existing->id;
            $record->sortorder = $existing->sortorder;
            $DB->update_record('assign_overrides', $record);
        } else {
            if ($record->groupid !== null) {
                // A new group override gets the lowest priority, as in mod/assign/overrideedit.php.
                $max = $DB->get_field_sql('SELECT MAX(sortorder) FROM {assign_overrides}
                                            WHERE assignid = ? AND groupid IS NOT NULL', [$this->assignrecord->id]);
                $record->sortorder = (int)$max + 1;
            }
            $record->id = $DB->insert_record('assign_overrides', $record);
        }

        $this->purge_cache($record->userid, $record->groupid);
        $this->fire_event($existing ? 'updated' : 'created', (int)$record->id, $record->userid, $record->groupid);
        if ($record->groupid !== null) {
            // Group priorities affect every group's calendar events: update them all.
            assign_update_events($this->assign);
        } else {
            assign_update_events($this->assign, $record);
        }
        return (int)$record->id;
    }

    /**
     * Deletes overrides of this assignment; all ids must exist here.
     *
     * @param int[] $ids override ids
     * @return int[] the deleted ids
     */
    public function delete(array $ids): array {
        global $DB;

        $ids = array_values(array_unique(array_map('intval', $ids)));
        if (!$ids) {
            return [];
        }
        [$insql, $params] = $DB->get_in_or_equal($ids, SQL_PARAMS_NAMED);
        $params['assignid'] = $this->assignrecord->id;
        $found = $DB->get_records_select('assign_overrides', "id $insql AND assignid = :assignid", $params, '',
            'id, userid, groupid');
        $missing = array_diff($ids, array_map('intval', array_keys($found)));
        if ($missing) {
            throw util::invalid('overridemissingdelete', implode(',', $missing));
        }

        $groups = false;
        foreach ($found as $override) {
            $groups = $groups || !empty($override->groupid);
        }
        if (method_exists($this->assign, 'delete_override')) {
            foreach ($found as $override) {
                // Deletes the calendar events, the record and the cache entry, and fires the event.
                $this->assign->delete_override($override->id);
            }
        } else {
            // Moodle 5.3+ moved this into mod_assign\override_manager (MDL-86513).
            (new \mod_assign\override_manager($this->assignrecord, $this->context))->delete_overrides_by_id($ids);
            return $ids;
        }
        if ($groups) {
            $this->reorder_group_overrides();
            assign_update_events($this->assign);
        }
        return $ids;
    }

    /**
     * Renumbers the group overrides' priorities 1, 2, 3... keeping their order.
     */
    protected function reorder_group_overrides(): void {
        global $DB;
        $overrides = $DB->get_records_select('assign_overrides', 'assignid = ? AND groupid IS NOT NULL',
            [$this->assignrecord->id], 'sortorder ASC, id ASC', 'id, groupid, sortorder');
        $i = 1;
        foreach ($overrides as $override) {
            if ((int)$override->sortorder !== $i) {
                $DB->set_field('assign_overrides', 'sortorder', $i, ['id' => $override->id]);
                $this->purge_cache(null, (int)$override->groupid);
            }
            $i++;
        }
    }

    /**
     * Clears the cached override of a user or group.
     *
     * @param int|null $userid user id
     * @param int|null $groupid group id
     */
    protected function purge_cache(?int $userid, ?int $groupid): void {
        $key = $groupid ? "{$this->assignrecord->id}_g_{$groupid}" : "{$this->assignrecord->id}_u_{$userid}";
        cache::make('mod_assign', 'overrides')->delete($key);
    }

    /**
     * Fires mod_assign's user_override_* or group_override_* event.
     *
     * @param string $what created or updated
     * @param int $id override id
     * @param int|null $userid user id
     * @param int|null $groupid group id
     */
    protected function fire_event(string $what, int $id, ?int $userid, ?int $groupid): void {
        $params = [
            'objectid' => $id,
            'context' => $this->context,
            'other' => ['assignid' => (int)$this->assignrecord->id],
        ];
        if ($groupid) {
            $params['other']['groupid'] = $groupid;
            $class = "\\mod_assign\\event\\group_override_{$what}";
        } else {
            $params['relateduserid'] = $userid;
            $class = "\\mod_assign\\event\\user_override_{$what}";
        }
        $class::create($params)->trigger();
    }

    /**
     * An integer column value, keeping null.
     *
     * @param mixed $value column value
     * @return int|null
     */
    protected static function int_or_null($value): ?int {
        return $value === null ? null : (int)$value;
    }
}
