internal import CLibdeflate
