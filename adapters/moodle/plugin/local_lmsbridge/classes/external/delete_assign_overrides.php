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
 * local_lmsbridge_delete_assign_overrides: delete overrides of an assignment, Moodle 4.5-5.2.
 *
 * Same parameters and answer as core 5.3's mod_assign_delete_overrides; like
 * mod_quiz_delete_overrides, an id that does not exist in the assignment is invalidparameter
 * and nothing is deleted.
 *
 * @package    local_lmsbridge
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class delete_assign_overrides extends external_api {

    /**
     * Parameters (CONTRACT.md, "Assignment overrides before Moodle 5.3").
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'data' => new external_single_structure([
                'assignid' => new external_value(PARAM_INT, 'Assignment id (the instance, not the course module)'),
                'ids' => new external_multiple_structure(new external_value(PARAM_INT, 'Override id'),
                    'Overrides to delete'),
            ]),
        ]);
    }

    /**
     * Deletes the overrides.
     *
     * @param array $data assignid and ids
     * @return array ids
     */
    public static function execute(array $data): array {
        $params = self::validate_parameters(self::execute_parameters(), ['data' => $data]);
        $store = new assign_override_store($params['data']['assignid']);
        return ['ids' => $store->delete($params['data']['ids'])];
    }

    /**
     * Return structure.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'ids' => new external_multiple_structure(new external_value(PARAM_INT, 'Override id'),
                'The deleted override ids'),
        ]);
    }
}
