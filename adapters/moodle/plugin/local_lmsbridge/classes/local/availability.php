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

use coding_exception;
use context_module;
use core_external\external_api;
use invalid_parameter_exception;

/**
 * Availability (restrict access) JSON: validation, the paper's release restriction, and writing
 * it on a course module.
 *
 * The format is the one of availability/classes/tree.php: a root {"op", "c", "showc"|"show"}
 * whose conditions have a "type" naming an enabled availability_* plugin. \core_availability\tree
 * is what course/modlib.php add_moduleinfo()/update_moduleinfo() use to check availability data
 * before storing it; its constructor throws coding_exception for any structural problem or an
 * unknown or disabled condition type, which this class reports as invalidparameter.
 *
 * @package    local_lmsbridge
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class availability {

    /**
     * Validates availability JSON text and returns what to store.
     *
     * @param string $json availability JSON text; '' clears the restriction
     * @return string|null the text to store (trimmed, as given), or null for "no restriction"
     * @throws invalid_parameter_exception if the text is not a valid restriction tree
     */
    public static function normalise(string $json): ?string {
        $json = trim($json);
        if ($json === '') {
            return null;
        }
        $structure = json_decode($json);
        if (!is_object($structure)) {
            throw util::invalid('err_availabilityjson');
        }
        try {
            $tree = new \core_availability\tree($structure);
        } catch (coding_exception $e) {
            // The reason ("Invalid availability structure (missing ->c)", "Unknown condition type: x")
            // is the exception's $a; getMessage() wraps it in "Coding error detected...".
            $reason = (is_string($e->a) && $e->a !== '') ? $e->a : $e->getMessage();
            throw util::invalid('err_availabilitytree', $reason);
        }
        // Like add_moduleinfo(): an empty tree is stored as null.
        if ($tree->is_empty()) {
            return null;
        }
        return $json;
    }

    /**
     * The restriction that keeps the exam paper hidden until it is released (CONTRACT.md, attach_paper).
     *
     * @param int $opensat release time (Unix seconds); 0 = no restriction
     * @return string|null availability JSON, or null when $opensat is 0
     */
    public static function release_at(int $opensat): ?string {
        if ($opensat <= 0) {
            return null;
        }
        return json_encode([
            'op' => '&',
            'c' => [['type' => 'date', 'd' => '>=', 't' => $opensat]],
            'showc' => [true],
        ]);
    }

    /**
     * Sets or clears the availability restriction of a course module (set_availability).
     *
     * Core has no API that writes only a module's availability: update_moduleinfo() rewrites the
     * whole activity. The column is written directly, as core_availability\info does when it
     * rewrites conditions (availability/classes/info.php update_dependency_id_across_course()),
     * followed by the cache rebuild and the course_module_updated event that update_moduleinfo()
     * would have produced.
     *
     * @param int $cmid course module id
     * @param string $availability availability JSON; '' clears it
     * @return array external warnings
     */
    public static function set_for_cm(int $cmid, string $availability): array {
        global $CFG, $DB;
        require_once($CFG->dirroot . '/course/lib.php');

        $cm = get_coursemodule_from_id('', $cmid, 0, false, MUST_EXIST);
        $context = context_module::instance($cm->id);
        external_api::validate_context($context);
        require_capability('moodle/course:manageactivities', $context);

        $json = self::normalise($availability);
        $warnings = [];
        if ($json !== null && empty($CFG->enableavailability)) {
            $warnings[] = util::warning('availabilitydisabled', 'warn_availabilitydisabled', null, 'cmid', $cm->id);
        }
        if ((string)$cm->availability !== (string)$json) {
            $DB->set_field('course_modules', 'availability', $json, ['id' => $cm->id]);
            rebuild_course_cache($cm->course, true);
            $cm->availability = $json;
            \core\event\course_module_updated::create_from_cm($cm, $context)->trigger();
        }
        return $warnings;
    }
}
