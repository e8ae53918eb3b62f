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

use stdClass;

/**
 * The rules of an assignment override, without the database: normalising and checking one.
 *
 * Core gained assignment override web services only in Moodle 5.3 (mod_assign\override_manager,
 * MDL-86513; moodle-ws.md §1.5). These rules follow the quiz override manager that Moodle 4.4+
 * already has (mod/quiz/classes/local/override_manager.php) and CONTRACT.md:
 * - only the overridable settings count; a value equal to the assignment's own is stored as null
 *   (clear_unused_values()); 0 means "not set" and is null too;
 * - exactly one of userid and groupid;
 * - nothing left that differs from the assignment is "nooverridedata";
 * - a time limit must be positive; dates may not be negative;
 * - the resulting dates must be in order: due after the start of submissions, cut-off not before
 *   the due date nor the start (mod_assign's override rules and texts). The order is checked on the
 *   dates the student will have, the override's where set and the assignment's otherwise,
 *   because an override whose due date passes the assignment's cut-off would be cut off.
 *
 * Pure logic: unit-tested under php-cli; {@see assign_override_store} does the rest.
 *
 * @package    local_lmsbridge
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class assign_override_rules {

    /** @var string[] The assign settings an override can change (columns of assign_overrides). */
    public const SETTINGS = ['allowsubmissionsfromdate', 'duedate', 'cutoffdate', 'timelimit'];

    /**
     * Normalises one override as received.
     *
     * @param array $input id?, userid?, groupid?, and settings; absent or null = not set
     * @param stdClass $assign the assign record (its own settings)
     * @return array id, userid, groupid (int or null) and every setting (int or null)
     */
    public static function normalise(array $input, stdClass $assign): array {
        $override = [];
        foreach (['id', 'userid', 'groupid'] as $key) {
            $override[$key] = empty($input[$key]) ? null : (int)$input[$key];
        }
        foreach (self::SETTINGS as $key) {
            $value = $input[$key] ?? null;
            if ($value === null || $value === '' || (int)$value === 0) {
                $override[$key] = null;
            } else if ((int)$value === (int)($assign->$key ?? 0)) {
                // The same as the assignment: nothing to override.
                $override[$key] = null;
            } else {
                $override[$key] = (int)$value;
            }
        }
        return $override;
    }

    /**
     * Checks a normalised override against the rules that need no database.
     *
     * @param array $override from {@see normalise()}
     * @param stdClass $assign the assign record
     * @return array|null [string identifier, mixed $a] for the first problem, or null
     */
    public static function check(array $override, stdClass $assign): ?array {
        if (empty($override['userid']) && empty($override['groupid'])) {
            return ['overridemustsetuserorgroup', null];
        }
        if (!empty($override['userid']) && !empty($override['groupid'])) {
            return ['overridecannotsetbothgroupanduser', null];
        }
        $isset = array_filter(self::SETTINGS, fn(string $key): bool => $override[$key] !== null);
        if (!$isset) {
            return ['nooverridedata', null];
        }
        if ($override['timelimit'] !== null && $override['timelimit'] <= 0) {
            return ['overrideinvalidtimelimit', null];
        }
        foreach (['allowsubmissionsfromdate', 'duedate', 'cutoffdate'] as $key) {
            if ($override[$key] !== null && $override[$key] < 0) {
                return ['err_negative', $key];
            }
        }

        $effective = fn(string $key): int => (int)($override[$key] ?? ($assign->$key ?? 0));
        $open = $effective('allowsubmissionsfromdate');
        $due = $effective('duedate');
        $cutoff = $effective('cutoffdate');
        // The rules and texts of mod_assign's override validation (duedateaftersubmissionvalidation,
        // cutoffdatevalidation, cutoffdatefromdatevalidation).
        if ($open && $due && $due <= $open) {
            return ['overrideduebeforeopen', null];
        }
        if ($due && $cutoff && $cutoff < $due) {
            return ['overridecutoffbeforedue', null];
        }
        if ($open && $cutoff && $cutoff < $open) {
            return ['overridecutoffbeforeopen', null];
        }
        return null;
    }

    /**
     * The record to write for a normalised override.
     *
     * @param array $override from {@see normalise()}
     * @param int $assignid assign id
     * @return stdClass assign_overrides fields (without id and sortorder)
     */
    public static function record(array $override, int $assignid): stdClass {
        $record = new stdClass();
        $record->assignid = $assignid;
        $record->userid = $override['userid'];
        $record->groupid = $override['groupid'];
        foreach (self::SETTINGS as $key) {
            $record->$key = $override[$key];
        }
        return $record;
    }
}
