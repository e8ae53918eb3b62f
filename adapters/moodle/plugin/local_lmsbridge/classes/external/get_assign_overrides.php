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

namespace local_lmsbridge\external;

use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use local_lmsbridge\local\assign_override_store;

/**
 * local_lmsbridge_get_assign_overrides: the overrides of an assignment, Moodle 4.5-5.2.
 *
 * Same answer as core 5.3's mod_assign_get_overrides, without the 5.2+ reason fields.
 *
 * @package    local_lmsbridge
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_assign_overrides extends external_api {

    /**
     * Parameters (CONTRACT.md, "Assignment overrides before Moodle 5.3").
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'assignid' => new external_value(PARAM_INT, 'Assignment id (the instance, not the course module)'),
        ]);
    }

    /**
     * Lists the overrides.
     *
     * @param int $assignid assignment id
     * @return array overrides
     */
    public static function execute(int $assignid): array {
        $params = self::validate_parameters(self::execute_parameters(), ['assignid' => $assignid]);
        $store = new assign_override_store($params['assignid']);
        return ['overrides' => $store->get_all()];
    }

    /**
     * Return structure.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'overrides' => new external_multiple_structure(new external_single_structure([
                'id' => new external_value(PARAM_INT, 'Override id'),
                'assignid' => new external_value(PARAM_INT, 'Assignment id'),
                'userid' => new external_value(PARAM_INT, 'User id, or null', VALUE_REQUIRED, null, NULL_ALLOWED),
                'groupid' => new external_value(PARAM_INT, 'Group id, or null', VALUE_REQUIRED, null, NULL_ALLOWED),
                'sortorder' => new external_value(PARAM_INT, 'Group override priority (1 = highest), or null',
                    VALUE_REQUIRED, null, NULL_ALLOWED),
                'allowsubmissionsfromdate' => new external_value(PARAM_INT, 'Submissions open, or null', VALUE_REQUIRED,
                    null, NULL_ALLOWED),
                'duedate' => new external_value(PARAM_INT, 'Due date, or null', VALUE_REQUIRED, null, NULL_ALLOWED),
                'cutoffdate' => new external_value(PARAM_INT, 'Cut-off date, or null', VALUE_REQUIRED, null, NULL_ALLOWED),
                'timelimit' => new external_value(PARAM_INT, 'Time limit in seconds, or null', VALUE_REQUIRED, null,
                    NULL_ALLOWED),
            ])),
        ]);
    }
}
