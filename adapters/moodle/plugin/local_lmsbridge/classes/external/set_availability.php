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
use core_external\external_single_structure;
use core_external\external_value;
use core_external\external_warnings;
use local_lmsbridge\local\availability;

/**
 * local_lmsbridge_set_availability: set or clear a course module's restrict-access JSON.
 *
 * Core web services can only read a module's availability (moodle-ws.md §1.4).
 *
 * @package    local_lmsbridge
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class set_availability extends external_api {

    /**
     * Parameters (CONTRACT.md, local_lmsbridge_set_availability).
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'cmid' => new external_value(PARAM_INT, 'Course module id'),
            'availability' => new external_value(PARAM_RAW,
                'Availability JSON (availability/classes/tree.php format); "" clears it'),
        ]);
    }

    /**
     * Sets the restriction.
     *
     * @param int $cmid course module id
     * @param string $availability availability JSON
     * @return array status, warnings
     */
    public static function execute(int $cmid, string $availability): array {
        $params = self::validate_parameters(self::execute_parameters(), [
            'cmid' => $cmid,
            'availability' => $availability,
        ]);
        $warnings = availability::set_for_cm($params['cmid'], $params['availability']);
        return ['status' => true, 'warnings' => $warnings];
    }

    /**
     * Return structure.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'status' => new external_value(PARAM_BOOL, 'Always true; failures are exceptions'),
            'warnings' => new external_warnings(),
        ]);
    }
}
