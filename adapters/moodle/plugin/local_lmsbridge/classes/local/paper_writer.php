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

use context_course;
use context_module;
use context_user;
use core_external\external_api;
use stdClass;

/**
 * The exam paper as a File resource in the exam section, hidden until release (attach_paper).
 *
 * The file comes from the token user's draft area, filled by webservice/upload.php (moodle-ws.md
 * §1.7); no core web service turns a draft into a resource. The resource is created with
 * create_module() and updated with update_moduleinfo(); mod_resource's resource_set_mainfile()
 * (mod/resource/locallib.php) copies the draft into the module's content area when the
 * moduleinfo's "files" property holds a draft item id. Like upsert_activity, the resource is
 * found by its course-module idnumber, and its file is replaced only when the content differs.
 *
 * @package    local_lmsbridge
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class paper_writer {

    /** @var string[] Display options resource_set_display_options() reads (mod/resource/lib.php). */
    protected const DISPLAY_OPTIONS = ['printintro', 'showsize', 'showtype', 'showdate', 'popupwidth', 'popupheight'];

    /**
     * Creates or updates the paper.
     *
     * @param int $courseid course id
     * @param string $idnumber course module idnumber, e.g. "lmsbridge:E1:paper"
     * @param int $sectionnum section number
     * @param string $name resource name
     * @param int $draftitemid the token user's draft item id
     * @param int $opensat release time; 0 = no restriction
     * @return array ['cmid', 'created', 'contenthash', 'warnings']
     */
    public static function attach(int $courseid, string $idnumber, int $sectionnum, string $name, int $draftitemid,
            int $opensat): array {
        global $CFG, $USER;
        require_once($CFG->dirroot . '/course/lib.php');
        require_once($CFG->dirroot . '/course/modlib.php');
        require_once($CFG->libdir . '/resourcelib.php');

        $idnumber = util::clean_idnumber($idnumber);
        $name = util::clean_name($name);
        $sectionnum = util::check_section($sectionnum);
        if ($opensat < 0) {
            throw util::invalid('err_negative', 'opensat');
        }

        $course = util::get_course($courseid);
        $context = context_course::instance($course->id);
        external_api::validate_context($context);
        require_capability('moodle/course:manageactivities', $context);
        require_capability('mod/resource:addinstance', $context);

        $fs = get_file_storage();
        $usercontext = context_user::instance($USER->id);
        $draftfiles = $fs->get_area_files($usercontext->id, 'user', 'draft', $draftitemid, 'sortorder DESC, id ASC', false);
        if (!$draftfiles) {
            throw util::invalid('err_draftempty', $draftitemid);
        }

        $warnings = [];
        $json = availability::release_at($opensat);
        $visible = 1;
        if ($json !== null && empty($CFG->enableavailability)) {
            // Without restrict access the date condition would not hide the paper: create it hidden.
            $visible = 0;
            $warnings[] = util::warning('paperhidden', 'warn_paperhidden', null, 'idnumber');
        }

        $lock = util::lock_idnumber($course->id, $idnumber);
        try {
            $existing = util::find_cm_by_idnumber($course->id, $idnumber, $warnings);
            if ($existing && $existing->modname !== 'resource') {
                throw util::invalid('err_idnumbertaken', (object)['idnumber' => $idnumber, 'modname' => $existing->modname]);
            }
            if ($existing) {
                $cmid = self::update($course, (int)$existing->id, $sectionnum, $name, $draftitemid, $draftfiles, $json);
                $created = false;
            } else {
                $cmid = self::create($course, $idnumber, $sectionnum, $name, $draftitemid, $json, $visible);
                $created = true;
            }
        } finally {
            $lock->release();
        }

        return [
            'cmid' => $cmid,
            'created' => $created,
            'contenthash' => self::main_file_hash($cmid),
            'warnings' => $warnings,
        ];
    }

    /**
     * Creates the resource.
     *
     * @param stdClass $course course record
     * @param string $idnumber course module idnumber
     * @param int $sectionnum section number
     * @param string $name resource name
     * @param int $draftitemid draft item id holding the paper
     * @param string|null $json availability JSON or null
     * @param int $visible 1 shown (restricted by date), 0 hidden
     * @return int course module id
     */
    protected static function create(stdClass $course, string $idnumber, int $sectionnum, string $name, int $draftitemid,
            ?string $json, int $visible): int {
        $data = prepare_new_moduleinfo_data($course, 'resource', $sectionnum)[4];
        $config = get_config('resource');

        $data->name = $name;
        // No description: nothing but the paper itself goes into the resource.
        $data->introeditor = ['text' => '', 'format' => FORMAT_HTML, 'itemid' => $data->introeditor['itemid']];
        $data->showdescription = 0;
        $data->visible = $visible;
        $data->visibleoncoursepage = 1;
        $data->cmidnumber = $idnumber;
        // The site defaults the resource form applies (mod/resource/settings.php, mod_form.php).
        $data->display = (int)($config->display ?? RESOURCELIB_DISPLAY_AUTO);
        $data->popupwidth = (int)($config->popupwidth ?? 620);
        $data->popupheight = (int)($config->popupheight ?? 450);
        $data->printintro = (int)($config->printintro ?? 1);
        $data->showsize = (int)($config->showsize ?? 0);
        $data->showtype = (int)($config->showtype ?? 0);
        $data->showdate = (int)($config->showdate ?? 0);
        $data->filterfiles = (int)($config->filterfiles ?? 0);
        $data->revision = 1;
        $data->files = $draftitemid;
        // add_moduleinfo() stores this when restrict access is enabled ('' = none).
        $data->availabilityconditionsjson = $json ?? '';

        $moduleinfo = create_module($data);
        return (int)$moduleinfo->coursemodule;
    }

    /**
     * Updates the resource: section, name, release restriction, and the file if it changed.
     *
     * @param stdClass $course course record
     * @param int $cmid course module id
     * @param int $sectionnum section number
     * @param string $name resource name
     * @param int $draftitemid draft item id holding the paper
     * @param \stored_file[] $draftfiles the files in that draft area
     * @param string|null $json availability JSON or null
     * @return int course module id
     */
    protected static function update(stdClass $course, int $cmid, int $sectionnum, string $name, int $draftitemid,
            array $draftfiles, ?string $json): int {
        global $CFG, $DB;

        $transaction = $DB->start_delegated_transaction();
        try {
            util::move_to_section($course, $cmid, $sectionnum);

            $cm = get_coursemodule_from_id('resource', $cmid, $course->id, false, MUST_EXIST);
            $modcontext = context_module::instance($cm->id);
            $current = get_file_storage()->get_area_files($modcontext->id, 'mod_resource', 'content', 0,
                'sortorder DESC, id ASC', false);
            $samefile = self::hashes($current) === self::hashes($draftfiles);
            $sameavailability = empty($CFG->enableavailability) || (string)$cm->availability === (string)$json;
            if (!$samefile || !$sameavailability || $cm->name !== $name) {
                // Checks moodle/course:manageactivities in the module context (can_update_moduleinfo()).
                [$cm, , , $data, ] = get_moduleinfo_data($cm, $course);
                $data->name = $name;
                // mod/resource/mod_form.php data_preprocessing() unpacks the display options for the
                // form; resource_set_display_options() reads them back as properties.
                $options = empty($data->displayoptions) ? [] : (array)unserialize_array($data->displayoptions);
                foreach (self::DISPLAY_OPTIONS as $option) {
                    if (isset($options[$option])) {
                        $data->$option = $options[$option];
                    }
                }
                $data->popupwidth = $data->popupwidth ?? 620;
                $data->popupheight = $data->popupheight ?? 450;
                // 0 keeps the current file: resource_set_mainfile() only saves a non-empty draft item id.
                $data->files = $samefile ? 0 : $draftitemid;
                if (!empty($CFG->enableavailability)) {
                    $data->availabilityconditionsjson = $json ?? '';
                }
                update_moduleinfo($cm, $data, $course);
            }
            $transaction->allow_commit();
        } catch (\Throwable $e) {
            $transaction->rollback($e);
        }
        return $cmid;
    }

    /**
     * The sorted content hashes of a set of files, to compare drafts with stored papers.
     *
     * @param \stored_file[] $files files (directories excluded)
     * @return string[]
     */
    protected static function hashes(array $files): array {
        $hashes = [];
        foreach ($files as $file) {
            $hashes[] = $file->get_contenthash();
        }
        sort($hashes);
        return $hashes;
    }

    /**
     * The content hash of the resource's main file, the one mod_resource serves.
     *
     * @param int $cmid course module id
     * @return string SHA-1 content hash, '' if there is no file
     */
    protected static function main_file_hash(int $cmid): string {
        $modcontext = context_module::instance($cmid);
        // The main file is the first by sortorder, as in resource_get_coursemodule_info().
        $files = get_file_storage()->get_area_files($modcontext->id, 'mod_resource', 'content', 0,
            'sortorder DESC, id ASC', false, 0, 0, 1);
        $file = reset($files);
        return $file ? $file->get_contenthash() : '';
    }
}
