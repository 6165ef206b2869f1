BcondJ@ЕlfОТ©O▌й░Рою═Bl░▓╒я? кgXр+║©╥nПR;L@
Лj┬EД©╥E\JzlП©╞≈/ЮuЖ©